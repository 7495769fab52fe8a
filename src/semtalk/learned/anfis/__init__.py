"""LGM-TSC's ANFIS prompt/length controller: the channel SNR picks how short the transmitted text is (eqs. 12–17)."""

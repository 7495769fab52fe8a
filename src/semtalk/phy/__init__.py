"""Radio physical layer (issue 18): pure blocks for simulating a wireless link, no sockets, no clocks.

The papers semtalk compares with evaluate over a radio channel, not a packet network, so this folder
models one symbol by symbol, in Sionna's style: every block is a plain function or object of arrays,
randomness comes in as an explicit ``np.random.Generator`` (or seed), and the SNR is a call argument,
so one instance sweeps all SNR points.

- ``theory``  closed-form references: uncoded BER over AWGN / Rayleigh, Seb's capacity threshold,
  channel bandwidth ratio.
- ``channel`` AWGN, flat block Rayleigh fading, pilots, least-squares estimation, equalisation,
  Eb/N0 ↔ N0.
- ``modem``   QAM / BPSK mapping and soft (APP) demapping via Sionna.
- ``ldpc``    5G NR LDPC code blocks with rate matching and CRC (Sionna encoder, ``ldpc`` C++
  belief-propagation decoder on the same parity-check matrix).
- ``radio``   ``DigitalRadio``: packets → CRC → LDPC → QAM → channel → soft demap → decode → packets
  delivered intact or erased, never corrupted.
- ``analog``  ``analog_channel`` / ``AnalogLink``: differentiable power-normalised complex symbols
  through AWGN / Rayleigh for learned joint source–channel coding.

SNR convention everywhere: ``snr_db`` is Es/N0 per complex symbol with Es = 1, so the complex noise
has variance N0 = 10^(−snr_db/10) (N0/2 per real dimension).

The submodules are not imported here: ``modem``, ``ldpc`` and ``radio`` import Sionna (a few seconds).
"""

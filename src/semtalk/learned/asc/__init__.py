"""ASC, the learned audio semantic coder of Wav2Vid: analog joint source–channel coding of the waveform."""

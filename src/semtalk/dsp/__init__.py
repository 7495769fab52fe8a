"""Signal processing, pure numpy/scipy: resampling, levels, WORLD analysis, DTW, speaker embeddings,
audio–video synchronisation."""

"""Seb: a learned image-set codec with explicit semantic bases (k-means Sebs of patch latents) and a residual."""

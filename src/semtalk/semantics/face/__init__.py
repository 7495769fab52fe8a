"""Face semantics: landmarks → stable crop → pose + expression coefficients → quantised codes (SyncSC eq. 2)."""

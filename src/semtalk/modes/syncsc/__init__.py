"""SyncSC: face coefficients + words with timing and prosody, packet FEC (the first seed paper)."""

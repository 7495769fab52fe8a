"""Speech semantics (SyncSC §III-C): ASR words with timing, and their per-word prosody."""

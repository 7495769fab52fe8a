"""PacSC, the learned packet code of the face stream (SyncSC §III-B)."""

"""Learned coders, one folder each: ``model`` (``forward()`` trains), ``code`` (exact bytes), ``train``."""

"""Modes: one folder per system, each a config, a ``Sender`` and a ``Receiver`` registered by name."""

"""The built-in sample clip (a portrait animated to speak one sentence) and ``make demo``."""

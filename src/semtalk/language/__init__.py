"""The language-model knowledge base (LGM-TSC): score, correct and shorten sentences with an n-gram, SmolLM2
or an OpenAI-compatible endpoint, all behind ``base.LanguageKB`` and named in the registry under ``"lm"``."""

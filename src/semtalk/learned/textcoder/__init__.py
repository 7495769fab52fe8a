"""The text coder of LGM-TSC: text → BPE tokens → transformer → analog symbols → transformer → tokens."""

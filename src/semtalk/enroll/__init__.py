"""Enrollment: builds a speaker's knowledge base from the first seconds of a clip (face model,
keyframes, background plate, voice profile, domain language model)."""

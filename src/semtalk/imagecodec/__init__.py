"""Image coding: still pictures (keyframes, the KB's references) to bytes and back, by codec name."""

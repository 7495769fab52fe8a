"""rtp stage."""

"""channel stage."""

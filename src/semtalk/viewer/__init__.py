"""``semtalk recv --view``: a local page with the live received video and the call's statistics."""

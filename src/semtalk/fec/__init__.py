"""fec stage."""

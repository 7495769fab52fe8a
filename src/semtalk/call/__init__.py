"""The call: one loop that runs any mode's sender and receiver over a link, and its outputs."""

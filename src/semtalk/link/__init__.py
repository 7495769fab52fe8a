"""The simulated link: FEC-free transport of datagrams through a seeded channel in simulated time."""

"""Simulated channels: seeded, stateful components that lose, delay, reorder and duplicate datagrams.

``packet_loss`` holds the packet-network channels ``BernoulliLoss`` and ``GilbertElliottLoss`` (registry
names ``channel/bernoulli`` and ``channel/gilbert_elliott``); ``radio`` holds ``RadioChannel``
(``channel/awgn`` and ``channel/rayleigh``), the ``phy`` radio with each packet delivered intact or lost.
A channel's ``kind`` says which ("packet" or "radio"). No clock and no global RNG.
"""

"""Simulated networks: seeded, stateful channels that lose, delay, reorder and duplicate datagrams.

``packet_loss`` holds ``BernoulliLoss`` and ``GilbertElliottLoss`` (registry names
``channel/bernoulli`` and ``channel/gilbert_elliott``). No clock and no global RNG.
"""

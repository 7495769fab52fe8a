"""Packet-level forward error correction between the packetiser and the channel.

``base`` defines the interface (``PacketFec`` making an encoder and a decoder) and ``NoFec``;
``reed_solomon`` holds the systematic RS erasure code over blocks of RTP packets. Registry names:
``fec/none`` and ``fec/rs``.
"""

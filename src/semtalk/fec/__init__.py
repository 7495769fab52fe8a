"""Packet erasure codes between the packetiser and the link: ``base`` (the interface and ``NoFec``) and
``reed_solomon`` (systematic RS over blocks of RTP packets). Learned codes live in ``semtalk.learned``.
"""

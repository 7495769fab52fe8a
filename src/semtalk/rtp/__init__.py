"""RTP, pure: ``packet`` (RtpPacket parse/serialise, 16-bit sequence arithmetic) and ``jitter``
(JitterBuffer, which restores sequence order). No sockets and no clock: time is the caller's.
"""

"""RTP, pure: ``packet`` (RtpPacket parse/serialise, 16-bit sequence arithmetic), ``bits`` and
``face_payload`` (the face-coefficient payload, packetizer and depacketizer). No sockets and no clock.

Play-out order and timing are handled per frame by ``semtalk.fec.concealment.FacePlayout``, keyed by
the frame index that the RTP timestamp carries.
"""

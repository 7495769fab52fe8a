"""Wire formats, pure: RTP packets (RFC 3550), bit I/O, the face and text payloads, their Huffman codes,
and the face play-out buffer. Bytes in, records out; no sockets and no clock (time is an argument).
"""

from __future__ import annotations

import json
import struct

from semtalk.kb.info import describe
from semtalk.kb.knowledge_base import kb_hash


def test_describe_counts(synthetic, kb_bytes):
    d = describe(synthetic.kb, kb_bytes)
    assert d["hash"] == kb_hash(kb_bytes)
    assert d["bytes"] == len(kb_bytes)
    assert d["fps"] == 25.0
    assert d["crop_size"] == 256
    assert d["coefficients"] == 16 and d["expression_coefficients"] == 6
    assert d["quant_bits"] == 8
    assert d["keyframes"] == 3 and d["mouth_atlas"] == 1
    assert d["info"] == synthetic.kb.info
    json.dumps(d)  # JSON-ready


def test_describe_byte_sizes_sum_to_the_file(synthetic, kb_bytes):
    parts = describe(synthetic.kb, kb_bytes)["bytes_by_part"]
    assert set(parts) == {"keyframes", "mouth_atlas", "model", "manifest"}
    assert all(v > 0 for v in parts.values())
    # Everything but the 38-byte header and the 4-byte manifest length is accounted for.
    assert sum(parts.values()) == len(kb_bytes) - 42
    assert parts["manifest"] == struct.unpack(">I", kb_bytes[38:42])[0]
    # Three 256² keyframes outweigh one small mouth patch.
    assert parts["keyframes"] > parts["mouth_atlas"]

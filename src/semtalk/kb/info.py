"""What `semtalk kb info` prints: the KB's contents and where its bytes go."""

from __future__ import annotations

from semtalk.kb.knowledge_base import KnowledgeBase, kb_hash, read_manifest


def describe(kb: KnowledgeBase, data: bytes) -> dict:
    """A JSON-ready summary of a knowledge base and its serialised size in bytes."""
    manifest, n = read_manifest(data)
    blobs = manifest["blobs"]
    by_part: dict[str, int] = {}
    for name, entry in blobs.items():
        part = ("keyframes" if name.startswith("key") else "mouth_atlas" if name.startswith("mouth")
                else "voice" if name == "voice" else "image_shared" if name == "pictures.shared" else "model")
        by_part[part] = by_part.get(part, 0) + entry["length"]
    by_part["manifest"] = n
    return {
        "hash": kb_hash(data),
        "bytes": len(data),
        "bytes_by_part": by_part,
        "fps": kb.fps,
        "crop_size": kb.crop.size,
        "coefficients": kb.face_model.n_coeffs,
        "expression_coefficients": kb.face_model.n_expr,
        "quant_bits": kb.quantizer.bits,
        "keyframes": len(kb.keyframes),
        "mouth_atlas": len(kb.mouth_atlas),
        "image_codec": kb.image_codec,
        "image_quality": kb.quality,
        "voice_profile": kb.voice is not None,
        "info": kb.info,
    }

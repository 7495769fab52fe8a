import numpy as np
import pytest

from semtalk import registry
from semtalk.imagecodec.base import at_bpp, bpp


def _picture() -> np.ndarray:
    y, x = np.mgrid[:96, :128]
    rgb = np.stack([x * 2, y * 2, (x + y) % 256], axis=-1)
    return np.clip(rgb + np.random.default_rng(0).normal(0, 8, rgb.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("name", registry.names("image_codec"))
def test_codec_round_trip_and_rate_match(name):
    codec, rgb = registry.get("image_codec", name)(), _picture()
    data, quality = at_bpp(codec, rgb, 1.0)
    assert bpp(data, rgb) <= 1.0
    out = codec.decode(data)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - rgb).mean() < 40  # a picture, not noise
    # a higher target never gives a worse-quality coding
    assert at_bpp(codec, rgb, 3.0)[1] >= quality


@pytest.mark.parametrize("name", registry.names("image_codec"))
def test_decode_refuses_other_bytes(name):
    with pytest.raises(ValueError, match=f"not a {name} image"):
        registry.get("image_codec", name)().decode(b"\x00garbage")

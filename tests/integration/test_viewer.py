"""The viewer page in a real headless browser (Debian's chromium; skipped without it): the screenshot shows the
received picture and the plots the stats drew."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request

import numpy as np
import pytest

from semtalk.viewer.server import Viewer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_stats_and_frame_are_served_on_loopback():
    viewer = Viewer()
    url = viewer.start()
    try:
        assert url.startswith("http://127.0.0.1:")
        viewer.frame(np.zeros((8, 8, 3), np.uint8), concealed=True)
        viewer.sample(t=0.5, kbps=3.0, loss=0.1)
        stats = json.loads(urllib.request.urlopen(url + "stats.json", timeout=5).read())
        assert stats["frames"] == 1 and stats["concealed"] == 1 and stats["series"] == [
            {"t": 0.5, "kbps": 3.0, "loss": 0.1}]
        assert urllib.request.urlopen(url + "frame.jpg", timeout=5).read()[:2] == b"\xff\xd8"  # a JPEG
        assert b"canvas" in urllib.request.urlopen(url, timeout=5).read()  # the page with its plots
    finally:
        viewer.close()


@pytest.mark.skipif(CHROMIUM is None, reason="needs chromium: apt-get install -y --no-install-recommends chromium")
def test_headless_browser_shows_the_face_and_moving_plots(tmp_path):
    from PIL import Image

    viewer = Viewer()
    url = viewer.start()
    try:
        face = np.zeros((256, 256, 3), np.uint8)
        face[64:192, 64:192] = (230, 40, 40)  # a red square where the face goes
        viewer.frame(face, concealed=False)
        for k in range(20):  # moving stats: every series changes
            viewer.sample(t=k / 2, bytes=100 * k, kbps=2 + np.sin(k), loss=0.05 * (k % 4), jitter_ms=k,
                          delay_ms=900 + 10 * k, latency_ms=200 + 5 * (k % 3))
        shot = tmp_path / "viewer.png"
        subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--screenshot={shot}", "--window-size=900,700", "--virtual-time-budget=3000", url],
                       check=True, capture_output=True, timeout=120)
    finally:
        viewer.close()
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    red = (pixels[..., 0] > 180) & (pixels[..., 1] < 90) & (pixels[..., 2] < 90)
    assert red.sum() > 5000  # the frame is on the page (scaled 256 → 384 px: 192² red pixels)
    plot = (abs(pixels[..., 0] - 0x88) < 40) & (abs(pixels[..., 1] - 0xCC) < 40) & (pixels[..., 2] > 200)
    assert plot[:, 420:].sum() > 300  # the plot lines (and the values) beside it

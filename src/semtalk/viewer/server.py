"""The viewer's HTTP server: 127.0.0.1 only, three paths, on its own thread.

    /            the static page (``index.html``: an <img> refreshed 5×/s, canvases plotting the stats)
    /frame.jpg   the frame played last (JPEG, encoded on request, so an unwatched page costs nothing)
    /stats.json  {"state", "frames", "concealed", "series": [{t, kbps, loss, jitter_ms, delay_ms, latency_ms}]}

The call's loop calls ``frame(image)`` and ``sample(...)``; the server thread only reads what they left.
"""

from __future__ import annotations

import io
import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources

import numpy as np

SERIES_LENGTH = 240  # samples kept for the plots (two minutes at 2 per second)


class Viewer:
    """Start with ``start()`` (returns the URL), stop with ``close()``."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.state = "waiting for the sender"
        self.frames = 0
        self.concealed = 0
        self.series: deque[dict] = deque(maxlen=SERIES_LENGTH)
        self._image: np.ndarray | None = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def frame(self, image: np.ndarray, concealed: bool) -> None:
        with self._lock:
            self._image = image
            self.frames += 1
            self.concealed += concealed

    def sample(self, **values: float) -> None:
        with self._lock:
            self.series.append({k: round(float(v), 3) for k, v in values.items()})

    def _jpeg(self) -> bytes:
        from PIL import Image

        with self._lock:
            image = self._image
        if image is None:
            image = np.full((64, 64, 3), 34, np.uint8)
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, format="JPEG", quality=85)
        return buf.getvalue()

    def _stats(self) -> bytes:
        with self._lock:
            return json.dumps({"state": self.state, "frames": self.frames, "concealed": self.concealed,
                               "series": list(self.series)}).encode()

    def start(self) -> str:
        viewer = self
        page = resources.files("semtalk.viewer").joinpath("index.html").read_bytes()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path in ("/", "/index.html"):
                    body, kind = page, "text/html; charset=utf-8"
                elif path == "/frame.jpg":
                    body, kind = viewer._jpeg(), "image/jpeg"
                elif path == "/stats.json":
                    body, kind = viewer._stats(), "application/json"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="semtalk-viewer", daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

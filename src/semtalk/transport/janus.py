"""The call through an unmodified Janus SFU (Debian's ``janus`` 1.1.x, VideoRoom plugin), on 127.0.0.1.

    semtalk send ──RTP (SSRC 1000 + 10·m)──▶ Janus remote publisher ──rtp_forward (SSRC, PT restored)──▶ recv
                 ◀───────────────── RTCP (SR/APP ▶, RR ◀) end to end, beside the SFU ────────────────────▶

Janus' VideoRoom takes plain RTP from a *remote publisher* on one port and tells its streams apart by SSRC
(``1000 + 10·mindex``); its RTP forwarders send each stream on, byte for byte (sequence numbers and timestamps
untouched), with an SSRC and payload type of our choosing. So the sender rewrites each of its six SSRCs to the
publisher's scheme *on the wire*, after SRTP, and the forwarders restore the originals: the receiver sees exactly
the packets the sender protected, and SRTP authenticates end to end through the SFU (which never holds a key).
Each stream is declared as VP8 video (a codec the room knows); Janus does not look into the payload.

Janus runs with a generated configuration in a temporary folder (HTTP API on 127.0.0.1 only, the VideoRoom and
HTTP transport plugins only). No ICE is involved: the remote publisher and the forwarders are plain UDP, so
loopback works without a network namespace.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from semtalk.errors import SemtalkError

BASE_SSRC, SSRC_STEP = 1000, 10  # Janus' REMOTE_PUBLISHER_BASE_SSRC and _SSRC_STEP
# The call's RTP streams in the publisher's order: (session, SSRC, payload type); session 2 (KB refreshes) is
# idle without --refresh-kbps.
STREAMS = ((0, 0x5E7A1C01, 96), (0, 0xFEC0FEC0, 127), (1, 0x5E7A7E01, 97), (1, 0xFEC0FEC0, 127),
           (2, 0x3E3E0001, 99), (2, 0xFEC0FEC0, 127))
INSTALL = "apt-get install -y --no-install-recommends janus"


def publisher_ssrc(session: int, packet: bytes) -> bytes:
    """``packet`` (RTP, SRTP or not) with its SSRC replaced by the remote publisher's for its stream."""
    ssrc = int.from_bytes(packet[8:12], "big") if len(packet) >= 12 else None
    for m, (s, original, _) in enumerate(STREAMS):
        if s == session and original == ssrc:
            return packet[:8] + (BASE_SSRC + SSRC_STEP * m).to_bytes(4, "big") + packet[12:]
    return packet


def _config(folder: Path, http_port: int) -> None:
    lib = next((p for p in (Path("/usr/lib/x86_64-linux-gnu/janus"), Path("/usr/lib/janus"),
                            Path("/usr/lib/aarch64-linux-gnu/janus")) if p.is_dir()), None)
    if lib is None:
        raise SemtalkError(f"janus plugins not found; install them: {INSTALL}")
    keep = {"libjanus_videoroom.so", "libjanus_http.so"}
    disabled = {kind: ",".join(sorted(p.name for p in (lib / kind).glob("*.so") if p.name not in keep))
                for kind in ("plugins", "transports")}
    (folder / "janus.jcfg").write_text(f"""general: {{
    configs_folder = "{folder}"
    plugins_folder = "{lib}/plugins"
    transports_folder = "{lib}/transports"
    events_folder = "{lib}/events"
    loggers_folder = "{lib}/loggers"
    debug_level = 4
}}
plugins: {{ disable = "{disabled['plugins']}" }}
transports: {{ disable = "{disabled['transports']}" }}
events: {{ broadcast = false }}
""")
    (folder / "janus.transport.http.jcfg").write_text(f"""general: {{
    base_path = "/janus"
    http = true
    port = {http_port}
    ip = "127.0.0.1"
    https = false
}}
admin: {{ admin_http = false }}
""")
    (folder / "janus.plugin.videoroom.jcfg").write_text("general: {\n}\n")


class Janus:
    """A Janus process and one VideoRoom with our remote publisher; ``forward(host, port)`` sends every stream on
    to ``port + session``. A context manager: the process stops on exit."""

    def __init__(self, http_port: int) -> None:
        if shutil.which("janus") is None:
            raise SemtalkError(f"--sfu janus needs the janus SFU: {INSTALL}")
        self.http_port = http_port
        self._folder = tempfile.TemporaryDirectory(prefix="semtalk-janus-")
        folder = Path(self._folder.name)
        _config(folder, http_port)
        self._log = open(folder / "janus.log", "w")  # noqa: SIM115 (closed in close())
        self._process = subprocess.Popen(["janus", "-F", str(folder), "-C", str(folder / "janus.jcfg")],
                                         stdout=self._log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{http_port}/janus"
        self.room = random.randint(10_000, 2**31)
        self.ingress: tuple[str, int] | None = None

    def _post(self, url: str, body: dict) -> dict:
        body = {**body, "transaction": f"{random.random()}"}
        request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
        return json.loads(urllib.request.urlopen(request, timeout=10).read())

    def _message(self, body: dict) -> dict:
        reply = self._post(f"{self.url}/{self._session}/{self._handle}", {"janus": "message", "body": body})
        return reply.get("plugindata", {}).get("data", reply)

    def start(self, timeout: float = 20.0) -> tuple[str, int]:
        """Wait for the API, make the room and the remote publisher; where the sender sends its RTP."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._session = self._post(self.url, {"janus": "create"})["data"]["id"]
                break
            except OSError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    raise SemtalkError(f"janus did not start (log: {self._folder.name}/janus.log)") from None
                time.sleep(0.2)
        self._handle = self._post(f"{self.url}/{self._session}", {"janus": "attach",
                                                                  "plugin": "janus.plugin.videoroom"})["data"]["id"]
        self._message({"request": "create", "room": self.room, "publishers": 4})
        streams = [{"type": "video", "mindex": m, "mid": str(m), "codec": "vp8"} for m in range(len(STREAMS))]
        reply = self._message({"request": "add_remote_publisher", "room": self.room, "id": 1, "display": "semtalk",
                               "iface": "127.0.0.1", "port": 0, "streams": streams})
        if reply.get("videoroom") != "success":
            raise SemtalkError(f"janus refused the remote publisher: {reply.get('error', reply)}")
        self.ingress = (reply.get("ip", "127.0.0.1"), int(reply["port"]))
        return self.ingress

    def forward(self, host: str, port: int, attempts: int = 20) -> None:
        """RTP forwarders from the publisher to the receiver, original SSRCs and payload types restored."""
        streams = [{"mid": str(m), "host": host, "port": port + session, "ssrc": ssrc, "pt": pt}
                   for m, (session, ssrc, pt) in enumerate(STREAMS)]
        for _ in range(attempts):  # the publisher becomes a feed a moment after it is added
            reply = self._message({"request": "rtp_forward", "room": self.room, "publisher_id": 1, "host": host,
                                   "streams": streams})
            if reply.get("videoroom") == "rtp_forward" and len(reply.get("forwarders", [])) == len(STREAMS):
                return
            time.sleep(0.2)
        raise SemtalkError(f"janus did not set up its RTP forwarders: {reply.get('error', reply)}")

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._log.close()
        self._folder.cleanup()

    def __enter__(self) -> Janus:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

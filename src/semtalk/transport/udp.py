"""UDP sockets of the live call: one port per RTP session (RTP and RTCP multiplexed on it, RFC 5761).

Session ``i`` (the mode's stream ``i``) uses port ``base + i`` at both ends. Sockets are non-blocking and
drained by the call's loop, which waits on them (``wait``) between its clock ticks: one thread, no asyncio event
loop to hand the GIL around, and the loop's clock stays the only clock. Only 127.0.0.1 and addresses the user
names are used; nothing listens on other interfaces unless asked.
"""

from __future__ import annotations

import errno
import selectors
import socket
import struct
import sys
import time

from semtalk.errors import SemtalkError

MAX_DATAGRAM = 65_535
# Kernel receive timestamps (Linux SO_TIMESTAMPNS): a datagram's arrival time is when it reached the socket, not
# when a busy loop got round to reading it, so one-way delay and jitter measure the network, not the renderer.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35 if sys.platform.startswith("linux") else None)
_TIMESPEC = struct.Struct("@qq")


def parse_address(text: str, flag: str = "--to") -> tuple[str, int]:
    """``HOST:PORT`` → ``(ipv4 address, port)``; one line for anything else."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise SemtalkError(f"{flag} must be HOST:PORT with a port in 1..65535, got '{text}'")
    try:
        return socket.gethostbyname(host or "127.0.0.1"), int(port)
    except OSError as exc:
        raise SemtalkError(f"{flag}: cannot resolve '{host}' ({exc})") from exc


class UdpPorts:
    """``count`` UDP sockets bound to ``host:port + i`` (``port`` 0: any free ports); ``peer`` is where session
    ``i`` sends (``peer port + i``) until ``learn`` gives another (symmetric RTP: answer where valid packets
    come from)."""

    def __init__(self, count: int, host: str = "127.0.0.1", port: int = 0,
                 peer: tuple[str, int] | None = None) -> None:
        self.sockets: list[socket.socket] = []
        self.selector = selectors.DefaultSelector()
        try:
            for i in range(count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                self.sockets.append(s)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                s.bind((host, port + i if port else 0))
                self.kernel_stamps = _stamps(s)
                s.setblocking(False)
                self.selector.register(s, selectors.EVENT_READ, i)
        except OSError as exc:
            self.close()
            raise SemtalkError(f"cannot bind UDP port {port + len(self.sockets) - 1 if port else 0} on {host} "
                               f"({exc.strerror or exc})") from exc
        self.peers: list[tuple[str, int] | None] = [None if peer is None else (peer[0], peer[1] + i)
                                                    for i in range(count)]

    def address(self, i: int) -> tuple[str, int]:
        return self.sockets[i].getsockname()

    def send(self, i: int, data: bytes) -> bool:
        """Send on session ``i`` to its peer; False when there is none yet or the network refused it."""
        peer = self.peers[i]
        return peer is not None and self.send_to(i, data, peer)

    def send_to(self, i: int, data: bytes, address: tuple[str, int]) -> bool:
        """Send on session ``i``'s socket to ``address`` (its peer, or an SFU's ingress); False when the network
        refused it."""
        try:
            self.sockets[i].sendto(data, address)
        except OSError as exc:  # ECONNREFUSED from an earlier ICMP, a full buffer: a real network loses packets
            if exc.errno not in (errno.ECONNREFUSED, errno.ENOBUFS, errno.EAGAIN, errno.EHOSTUNREACH):
                raise
            return False
        return True

    def receive(self) -> list[tuple[int, bytes, tuple[str, int], float]]:
        """Every datagram waiting, as ``(session, data, source address, arrival)`` (Unix time, the kernel's when
        it can tell); ``learn`` the peer from a valid one."""
        out = []
        for i, s in enumerate(self.sockets):
            while True:
                try:
                    data, ancillary, _, source = s.recvmsg(MAX_DATAGRAM, socket.CMSG_SPACE(_TIMESPEC.size))
                except (BlockingIOError, InterruptedError):
                    break
                except ConnectionRefusedError:
                    continue
                out.append((i, data, source, _arrival(ancillary)))
        return out

    def learn(self, i: int, source: tuple[str, int]) -> None:
        """Send session ``i``'s datagrams to ``source`` from now on (where its valid packets come from)."""
        self.peers[i] = source

    def wait(self, timeout: float) -> bool:
        """Block until a datagram is waiting or ``timeout`` seconds pass; whether one is."""
        return bool(self.selector.select(max(0.0, timeout)))

    def close(self) -> None:
        self.selector.close()
        for s in self.sockets:
            s.close()

    def __enter__(self) -> UdpPorts:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _stamps(s: socket.socket) -> bool:
    if SO_TIMESTAMPNS is None:
        return False
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    except OSError:
        return False
    return True


def _arrival(ancillary) -> float:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= _TIMESPEC.size:
            sec, nsec = _TIMESPEC.unpack_from(data)
            return sec + nsec * 1e-9
    return time.time()


def free_ports(count: int) -> int:
    """A base port with ``count`` consecutive free UDP ports on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + count >= 65536:
            continue
        try:
            held = []
            for i in range(count):
                t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                held.append(t)
                t.bind(("127.0.0.1", base + i))
            return base
        except OSError:
            continue
        finally:
            for t in held:
                t.close()
    raise SemtalkError("no free UDP ports on 127.0.0.1")

from __future__ import annotations

import pytest

from semtalk.transport.pcap import PcapWriter, read_udp_payloads

dpkt = pytest.importorskip("dpkt")


def test_written_datagrams_read_back_as_udp(tmp_path):
    path = tmp_path / "call.pcap"
    with PcapWriter(path) as pcap:
        pcap.write(10.5, ("127.0.0.1", 4000), ("127.0.0.1", 5000), b"\x80\x60abc")
        pcap.write(10.6, ("127.0.0.1", 5001), ("127.0.0.1", 4001), b"\x80\xc9\x00\x01")
    got = read_udp_payloads(path)
    assert [(round(t, 3), s, d, p) for t, s, d, p in got] == [
        (10.5, 4000, 5000, b"\x80\x60abc"), (10.6, 5001, 4001, b"\x80\xc9\x00\x01")]

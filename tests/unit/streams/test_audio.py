from __future__ import annotations

import numpy as np
import pytest

from semtalk.streams.audio import DIGITAL_BYTES, AudioDepacketizer, AudioPacketizer

TAG = 0x11


def test_opus_packets_get_their_slots_even_out_of_order_and_after_losses():
    sender = AudioPacketizer("opus", TAG, span=320)
    packets = [sender.push(bytes([i]) * 20) for i in range(10)]
    receiver = AudioDepacketizer("opus", TAG)
    got = [item for p in [packets[3], packets[0], packets[9]] for item in receiver(p)]
    assert got == [(3, bytes([3]) * 20), (0, bytes([0]) * 20), (9, bytes([9]) * 20)]


def test_asc_symbols_round_trip_exactly_after_the_digital_header():
    sender = AudioPacketizer("asc", TAG, span=3200)
    symbols = (np.arange(50) + 1j * np.arange(50)[::-1]).astype(np.complex64)
    packet = sender.push(symbols)
    assert len(packet) == DIGITAL_BYTES + 8 * symbols.size
    [(slot, got)] = AudioDepacketizer("asc", TAG)(packet)
    assert slot == 0 and np.array_equal(got, symbols)


def test_a_truncated_asc_packet_and_the_wrong_carrier_are_refused():
    packet = AudioPacketizer("asc", TAG, span=3200).push(np.ones(8, np.complex64))
    receiver = AudioDepacketizer("asc", TAG)
    assert receiver(packet[:-3]) == [] and receiver.invalid == 1
    assert AudioDepacketizer("opus", TAG)(packet) == []


def test_unknown_carrier_is_refused():
    with pytest.raises(ValueError):
        AudioPacketizer("mp3", TAG, span=320)

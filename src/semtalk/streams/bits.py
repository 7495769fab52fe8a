"""Bit-level writer/reader with Exp-Golomb codes (as H.264 uses for small values and deltas)."""

from __future__ import annotations


class BitWriter:
    def __init__(self) -> None:
        self._value = 0
        self.length = 0

    def write(self, value: int, bits: int) -> None:
        if value < 0 or value >= 1 << bits:
            raise ValueError(f"value {value} does not fit in {bits} bits")
        self._value = (self._value << bits) | value
        self.length += bits

    def write_se(self, value: int) -> None:
        """Signed Exp-Golomb: 0 → '1', ±1 → 3 bits, ±2..3 → 5 bits, ..."""
        code = 2 * value - 1 if value > 0 else -2 * value
        n = (code + 1).bit_length()
        self.write(0, n - 1)
        self.write(code + 1, n)

    def write_ue(self, value: int, k: int = 0) -> None:
        """Exp-Golomb of order ``k`` for a non-negative int (order 0 is H.264's ue(v)): values below
        ``2**k`` cost ``k + 1`` bits, and each doubling beyond costs two bits more."""
        if value < 0:
            raise ValueError(f"Exp-Golomb value {value} is negative")
        q = (value >> k) + 1
        n = q.bit_length()
        self.write(0, n - 1)
        self.write(q, n)
        self.write(value & ((1 << k) - 1), k)

    def to_bytes(self) -> bytes:
        pad = -self.length % 8
        return ((self._value << pad).to_bytes((self.length + pad) // 8, "big")) if self.length else b""


class BitReader:
    def __init__(self, data: bytes) -> None:
        self._value = int.from_bytes(data, "big")
        self._left = 8 * len(data)

    def read(self, bits: int) -> int:
        if bits > self._left:
            raise ValueError("payload truncated")
        self._left -= bits
        return (self._value >> self._left) & ((1 << bits) - 1)

    def read_ue(self, k: int = 0) -> int:
        zeros = self._zeros()
        q = (1 << zeros) | self.read(zeros)
        return ((q - 1) << k) | self.read(k)

    def read_se(self) -> int:
        zeros = self._zeros()
        code = ((1 << zeros) | self.read(zeros)) - 1
        return (code + 1) // 2 if code % 2 else -(code // 2)

    def end(self) -> None:
        """``ValueError`` unless all that is left is ``BitWriter.to_bytes``'s padding: under a byte, all zero.
        A payload that decodes but does not end there was not written by the encoder."""
        if self._left >= 8 or self._value & ((1 << self._left) - 1):
            raise ValueError(f"payload has {self._left} bits left after its fields, not zero padding")

    def _zeros(self) -> int:
        zeros = 0
        while self.read(1) == 0:
            zeros += 1
            if zeros > 24:
                raise ValueError("invalid Exp-Golomb code")
        return zeros

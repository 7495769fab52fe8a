"""SRTP/SRTCP (RFC 3711) with libsrtp (``pylibsrtp``): bytes in, bytes out, rejections counted.

Keys come from a secret both ends hold (a passphrase, or the bytes of a key file): PBKDF2-HMAC-SHA256 stretches it
into a master secret, and HMAC-SHA256 of that derives one master key + salt per RTP session and direction. Per
session because semtalk's sessions reuse SSRCs (every session's FEC repair stream is ``0xFEC0FEC0``): one key for
two sessions would repeat a keystream. Per direction so that the return path (RTCP receiver reports) never shares
a key with the forward one. Profiles: AES-CM-128 + HMAC-SHA1-80 (default) or AEAD-AES-128-GCM.

``Protector.unprotect`` never raises: a packet that fails authentication (tampered, or sent with another key) or
the replay check (a copy, or older than the 128-packet window) is counted by reason and dropped (None).
Pure: no sockets and no clock.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

PROFILES = {"aes_cm_128_hmac_sha1_80": (16, 14), "aead_aes_128_gcm": (16, 12)}
DEFAULT_PROFILE = "aes_cm_128_hmac_sha1_80"
SALT = b"semtalk-srtp-v1"
ITERATIONS = 100_000
FORWARD, BACK = "forward", "back"  # sender → receiver (media, SR), receiver → sender (RR)


def master_secret(secret: bytes) -> bytes:
    """The stretched secret both ends derive every session key from (slow on purpose: a passphrase is guessable)."""
    if not secret:
        raise ValueError("the SRTP secret is empty")
    return hashlib.pbkdf2_hmac("sha256", secret, SALT, ITERATIONS)


def session_key(master: bytes, session: int, direction: str, profile: str = DEFAULT_PROFILE) -> bytes:
    """Master key ‖ master salt of one RTP session and direction."""
    key_len, salt_len = PROFILES[profile]
    return hmac.new(master, f"srtp {profile} session {session} {direction}".encode(), hashlib.sha256).digest()[
        :key_len + salt_len]


def _policy(key: bytes, outbound: bool, profile: str):
    import pylibsrtp

    srtp_profile = {"aes_cm_128_hmac_sha1_80": pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
                    "aead_aes_128_gcm": pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM}[profile]
    return pylibsrtp.Policy(key=key, ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND if outbound
                            else pylibsrtp.Policy.SSRC_ANY_INBOUND, srtp_profile=srtp_profile)


@dataclass
class Protector:
    """One direction of one RTP session: ``protect`` what this end sends, ``unprotect`` what it receives.

    Counters of rejected packets: ``auth_failed`` (tampered or wrong key), ``replayed``, ``other``.
    """

    send_key: bytes
    receive_key: bytes
    profile: str = DEFAULT_PROFILE
    auth_failed: int = 0
    replayed: int = 0
    other: int = 0
    _out: object = field(init=False, repr=False)
    _in: object = field(init=False, repr=False)

    def __post_init__(self) -> None:
        import pylibsrtp

        self._out = pylibsrtp.Session(_policy(self.send_key, True, self.profile))
        self._in = pylibsrtp.Session(_policy(self.receive_key, False, self.profile))

    @classmethod
    def for_session(cls, master: bytes, session: int, sending: str, profile: str = DEFAULT_PROFILE) -> Protector:
        """The protector of ``session`` at the end that sends in direction ``sending`` (FORWARD at the sender)."""
        receiving = BACK if sending == FORWARD else FORWARD
        return cls(session_key(master, session, sending, profile), session_key(master, session, receiving, profile),
                   profile)

    @property
    def rejected(self) -> int:
        return self.auth_failed + self.replayed + self.other

    def protect(self, packet: bytes, rtcp: bool = False) -> bytes:
        return self._out.protect_rtcp(packet) if rtcp else self._out.protect(packet)

    def unprotect(self, packet: bytes, rtcp: bool) -> bytes | None:
        """The plain packet, or None (counted) when libsrtp refuses it."""
        import pylibsrtp

        try:
            return self._in.unprotect_rtcp(packet) if rtcp else self._in.unprotect(packet)
        except pylibsrtp.Error as exc:
            reason = str(exc)
            if "authentication" in reason:
                self.auth_failed += 1
            elif "replay" in reason:
                self.replayed += 1
            else:
                self.other += 1
            return None

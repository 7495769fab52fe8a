"""The Seb suite's real-radio contrast (cell ``seb_radio``): the RD cells' codings of a KB keyframe set sent through
semtalk's digital radio instead of Fig. 4's ideal capacity-achieving code.

Per SNR the sender does what a link adaptation does: it picks the fastest modulation and LDPC rate whose measured
waterfall lies below the SNR (``link_adaptation``, ``MCS_TABLE``), and then, as in Fig. 4, the scheme's best coding
(highest mean PSNR) whose packets fit the set's channel uses at CBR = 1/30, CBR·3·H·W per picture (CRC, LDPC,
rate matching and padding counted: ``bench.codecs.radio.channel_uses``). The bytes go through
``bench.codecs.radio.send_frames`` (CRC24A + 5G LDPC + QAM over AWGN, ``phy.radio.DigitalRadio``; packets of one
code block, no retransmission), one frame per picture and, for Seb, one frame of shared Sebs first.

The radio delivers a packet exact or not at all, and these codecs cannot decode a picture with bytes missing, so a
picture is lost unless every packet of it (and, for Seb, every packet of the Sebs) arrives. A lost picture is scored
as the receiver shows it: the previous keyframe of the set it did receive (the KB's neighbouring pose, the
convention of ``bench.codecs.radio.jpeg_over_radio``), mid-grey if it has received none yet. A scheme none of whose
codings fits the budget sends nothing; its point is left out (``sent`` False), as Fig. 4's "–" is.

The noise is drawn from ``(task.seed, SNR)``, so one seed gives one set of numbers whatever the grid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from semtalk.bench.runner import BenchEnv, Task
from semtalk.bench.seb import Coding, load_coding, load_keyframes, reconstruct, rgb_psnr
from semtalk.bench.seb_report import CBR


@dataclass(frozen=True)
class Mcs:
    """A modulation and LDPC rate, with the Es/N0 at which its 125-byte code blocks (the radio's packets here) reach
    a block error rate of 10 %."""

    modulation: str
    ldpc_rate: str
    threshold_db: float

    @property
    def name(self) -> str:
        return f"{self.modulation} {self.ldpc_rate}"

    @property
    def bits_per_use(self) -> float:
        """Information bits per channel use before the CRC: bits per symbol × code rate."""
        from fractions import Fraction

        from semtalk.phy.modem import bits_per_symbol

        return bits_per_symbol(self.modulation) * float(Fraction(self.ldpc_rate))


# Measured on this radio (AWGN, 200 random 125-byte packets per point, seed 1): the first Es/N0 on a 0.25-dB grid,
# from the Shannon limit of the MCS's rate upwards, where the BLER is ≤ 10 % (the initial-transmission target of
# LTE/NR link adaptation). Each lies 1.5–2.6 dB above the Shannon limit of its rate; in efficiency order.
MCS_TABLE = (
    Mcs("bpsk", "1/3", -4.0), Mcs("bpsk", "1/2", -1.5), Mcs("qpsk", "1/3", -0.75), Mcs("qpsk", "1/2", 1.5),
    Mcs("qpsk", "2/3", 3.5), Mcs("qpsk", "3/4", 4.5), Mcs("16qam", "1/2", 6.75), Mcs("16qam", "2/3", 9.25),
    Mcs("16qam", "3/4", 10.5), Mcs("64qam", "2/3", 14.25), Mcs("64qam", "3/4", 15.75), Mcs("64qam", "5/6", 17.5),
)
MARGIN_DB = 0.5  # back-off above the 10 % point: a picture needs all its blocks, and there is no HARQ here


def link_adaptation(snr_db: float, margin_db: float = MARGIN_DB, table: tuple[Mcs, ...] = MCS_TABLE) -> Mcs | None:
    """The fastest MCS of ``table`` whose 10 %-BLER point plus ``margin_db`` is at most ``snr_db``; None below all."""
    fits = [m for m in table if m.threshold_db + margin_db <= snr_db]
    return max(fits, key=lambda m: m.bits_per_use) if fits else None


def frames_of(coding: Coding) -> list[bytes]:
    """What is sent, one frame each: Seb's shared Sebs first (if any), then each picture."""
    return ([coding.shared] if coding.shared else []) + list(coding.each)


def packet_sizes(frames: list[bytes], size: int) -> list[int]:
    """The packet sizes ``send_frames`` cuts these frames into (at most ``size`` bytes each)."""
    return [min(size, len(f) - i) for f in frames for i in range(0, len(f), size)]


def delivered_pictures(coding: Coding, keep: np.ndarray) -> np.ndarray:
    """Per picture: all its frames arrived, and the shared Sebs too when the coding has them."""
    keep = np.asarray(keep, dtype=bool)
    return keep[1:] & keep[0] if coding.shared else keep


def conceal(delivered: np.ndarray, decoded: Callable[[], list[np.ndarray]], shape: tuple[int, ...]) -> list:
    """What the receiver shows per picture: its reconstruction, else the last one received before it, else grey.
    ``decoded`` is called only when some picture arrived."""
    from semtalk.media.video_codec import GREY

    pictures = decoded() if np.any(delivered) else None
    shown, last = [], np.full(shape, GREY, np.uint8)
    for i, ok in enumerate(delivered):
        if ok:
            last = pictures[i]
        shown.append(last)
    return shown


def send_set(codings: list[Coding], pictures: list[np.ndarray], snr_db: float, rng: np.random.Generator,
             margin_db: float = MARGIN_DB, cbr: float = CBR) -> dict:
    """One SNR point: link adaptation, the best coding that fits, its packets over the radio, the shown pictures
    scored (RGB PSNR, luma MS-SSIM, means over the set)."""
    from semtalk.bench.codecs.radio import channel_uses, send_frames
    from semtalk.metrics.video import ms_ssim
    from semtalk.phy.radio import DigitalRadio, RadioConfig

    n, pixels = len(pictures), sum(p.shape[0] * p.shape[1] for p in pictures)
    budget = cbr * 3 * pixels
    point = {"snr": snr_db, "mcs": None, "margin_db": margin_db, "sent": False, "lost": n, "pictures": n,
             "budget_uses": budget}
    mcs = link_adaptation(snr_db, margin_db)
    if mcs is None:
        return point
    radio = DigitalRadio(RadioConfig(modulation=mcs.modulation, ldpc_rate=mcs.ldpc_rate))
    size = radio.config.max_block_bytes
    point["mcs"] = mcs.name
    # best PSNR first; a coding whose payload alone needs more than the budget at the MCS's bits per channel use is
    # out without the exact count (which builds an LDPC code per packet size)
    ranked = sorted(codings, key=lambda c: -float(np.mean(c.psnr)))
    best = next((c for c in ranked if 8 * c.n_bytes / mcs.bits_per_use <= budget
                 and channel_uses(radio, packet_sizes(frames_of(c), size)) <= budget), None)
    if best is None:
        return point
    d = send_frames(frames_of(best), radio, snr_db, rng, 1.0)
    ok = delivered_pictures(best, d.keep)
    shown = conceal(ok, lambda: reconstruct(best), pictures[0].shape)
    psnr = [best.psnr[i] if ok[i] else rgb_psnr(pictures[i], shown[i]) for i in range(n)]
    msssim = [best.ms_ssim[i] if ok[i] else ms_ssim(pictures[i], shown[i]) for i in range(n)]
    return point | {"sent": True, "codec": best.codec, "quality": best.quality, "bpp": 8 * best.n_bytes / pixels,
                    "channel_uses": d.channel_uses, "packets": d.packets_sent, "packets_lost": d.packets_lost,
                    "lost": int(n - ok.sum()), "psnr": float(np.mean(psnr)), "ms_ssim": float(np.mean(msssim))}


def seb_radio_method(task: Task, env: BenchEnv) -> dict:
    """One clip and scheme over ``snrs``: the RD cells' codings of its keyframe set through the real radio."""
    p = task.params
    pictures = load_keyframes(env, task.clip)
    codings = [load_coding(env, task.clip, c, q, pictures) for c in p["codecs"] for q in p["qualities"]]
    points = [send_set(codings, pictures, s, np.random.default_rng([task.seed, round((s + 100) * 100)]))
              for s in p["snrs"]]
    return {"dataset": task.clip.split("_")[0], "radio": points}

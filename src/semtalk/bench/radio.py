"""The radio suite: semtalk's SyncSC call and the classic "codec + LDPC + QAM" systems against SNR.

``semtalk bench --suite radio`` sweeps Es/N0 from 0 to 20 dB in 2 dB steps over AWGN and block Rayleigh
fading (issue 18; the setting of Wav2Vid, LGM-TSC, M3E-VSC and Seb) and writes results.json, results.md,
figures and report.html. Cells, all on the harness of ``bench.runner`` and registered under ``bench_method``:

- ``semtalk_radio``: a whole ``semtalk.run_clip`` call (face stream with RS 1/2 and the words) over the radio
  link, with the clip's prepared KB: video quality on the held-out frames, regenerated speech, and ``phy.*``;
- ``codec_radio_video``: x264 / x265 / SVT-AV1 rate-matched to a channel-use budget (``BANDWIDTHS``, complex
  symbols per second at the same modulation and LDPC rate), one I-frame a second (``codecs.LOSS_GOP``), every
  packet through the same radio, lost frames frozen (the benchmark's freeze convention);
- ``codec_radio_speech``: Opus / AAC rate-matched to ``SPEECH_BANDWIDTHS`` over the radio, lost frames silent;
- ``jpeg_radio``: M3E's "JPEG + 16-QAM" single-frame baseline at a channel bandwidth ratio (Seb's CBR);
- ``radio_phy``: BER before and after decoding and BLER of random packets, beside the closed forms.

Every random draw comes from ``task.seed`` (one generator per cell), so one command gives the same numbers.
Bandwidths: semtalk's call takes about 7 k channel uses/s for its face stream at QPSK 1/2 (``phy.video`` of its
report); the codecs get 8 k (matched) and 32 k (4×) symbols/s.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from semtalk.bench.clips import crops_path, kb_path
from semtalk.bench.runner import BenchEnv, BenchOptions, Task

CLIPS = ("hdtf_WDA_KatieHill_000.mp4", "hdtf_WDA_EdMarkey0_000.mp4", "hdtf_RD_Radio34_000.mp4",
         "lrs2_00004.mp4", "lrs2_00016.mp4", "lrs2_00019.mp4")
SNRS = tuple(float(s) for s in range(0, 21, 2))
CHANNELS = ("awgn", "rayleigh")
BANDWIDTHS = (8000.0, 32000.0)  # video: complex symbols/s, ≈ semtalk's face stream and 4× it
SPEECH_BANDWIDTHS = (8000.0, 16000.0)  # speech codecs (Opus cannot go below 6 kbps ≈ 6.5 k symbols/s at QPSK 1/2)
JPEG_CBR = 1 / 24  # Seb's channel bandwidth ratio of the single-frame baseline
PHY_PACKETS = 250  # radio_phy: 250 packets × 100 bytes = 2·10⁵ information bits per point
PHY_PACKET_BYTES = 100
NO_CLIP = "-"  # the clip field of cells that use no clip (radio_phy)


@dataclass(frozen=True)
class RadioGrid:
    """The suite's axes. ``full()`` is the documented default; ``quick()`` fits in ≤ 5 minutes."""

    clips: tuple[str, ...] = CLIPS
    channels: tuple[str, ...] = CHANNELS
    snrs: tuple[float, ...] = SNRS
    modulation: str = "qpsk"
    ldpc_rate: float = 0.5
    coherence: int = 100
    video_codecs: tuple[str, ...] = ("x264", "x265", "svtav1")
    bandwidths: tuple[float, ...] = BANDWIDTHS
    speech_codecs: tuple[str, ...] = ("opus", "aac")
    speech_bandwidths: tuple[float, ...] = SPEECH_BANDWIDTHS
    jpeg_modulation: str = "16qam"
    jpeg_cbr: float = JPEG_CBR
    phy_modulations: tuple[str, ...] = ("qpsk", "16qam")
    speech: bool = True
    vmaf: bool = True

    @classmethod
    def full(cls) -> RadioGrid:
        return cls()

    @classmethod
    def quick(cls) -> RadioGrid:
        return cls(clips=("lrs2_00004.mp4",), snrs=(0.0, 4.0, 8.0, 12.0, 20.0), video_codecs=("x264",),
                   speech_codecs=("opus",), speech_bandwidths=SPEECH_BANDWIDTHS[:1], vmaf=False)

    def radio(self) -> dict:
        """The radio settings every clip cell shares (the cell's channel and SNR added)."""
        return {"modulation": self.modulation, "ldpc_rate": self.ldpc_rate, "coherence": self.coherence}

    def tasks(self, seed: int = 0) -> list[Task]:
        """Every cell, the semtalk calls first (the longest) so the workers finish together."""
        out: list[Task] = []
        conditions = [(ch, snr) for ch in self.channels for snr in self.snrs]
        for clip in self.clips:
            out += [Task.make("semtalk_radio", clip, seed, channel=ch, snr=snr, speech=self.speech,
                              score_vmaf=self.vmaf, **self.radio()) for ch, snr in conditions]
        for clip in self.clips:
            out += [Task.make("codec_radio_video", clip, seed, codec=c, bandwidth=bw, channel=ch, snr=snr,
                              score_vmaf=self.vmaf, **self.radio())
                    for c in self.video_codecs for bw in self.bandwidths for ch, snr in conditions]
            if self.speech:
                out += [Task.make("codec_radio_speech", clip, seed, codec=c, bandwidth=bw, channel=ch, snr=snr,
                                  **self.radio())
                        for c in self.speech_codecs for bw in self.speech_bandwidths for ch, snr in conditions]
            out += [Task.make("jpeg_radio", clip, seed, cbr=self.jpeg_cbr, channel=ch, snr=snr,
                              modulation=self.jpeg_modulation, ldpc_rate=self.ldpc_rate, coherence=self.coherence)
                    for ch, snr in conditions]
        out += [Task.make("radio_phy", NO_CLIP, seed, channel=ch, snr=snr, modulation=m, ldpc_rate=self.ldpc_rate,
                          coherence=self.coherence)  # cheap: the whole sweep even when quick
                for m in self.phy_modulations for ch in self.channels for snr in SNRS]
        return out


def radio_config(params: dict):
    """The cell's ``phy.radio.RadioConfig`` (perfect CSI, the grid's coherence)."""
    from semtalk.phy.radio import RadioConfig

    return RadioConfig(modulation=params["modulation"], ldpc_rate=params["ldpc_rate"], channel=params["channel"],
                       coherence=params["coherence"])


# -- semtalk ---------------------------------------------------------------------------------------------

def semtalk_radio_method(task: Task, env: BenchEnv) -> dict:
    """One semtalk call over the radio at the cell's SNR, with the clip's prepared KB."""
    import semtalk
    from semtalk.bench.syncsc import semtalk_row

    p = task.params
    clip = env.clip_path(task.clip)
    transcript = clip.with_suffix(".txt")
    out = env.clip_dir(task.clip) / "semtalk_radio" / f"{p['channel']}_{p['snr']:g}dB"
    report = semtalk.run_clip(
        clip, out, kb=str(kb_path(env, task.clip)), channel=p["channel"], snr=p["snr"], modulation=p["modulation"],
        ldpc_rate=p["ldpc_rate"], coherence=p["coherence"], seed=task.seed, vmaf=p["score_vmaf"], write_video=False,
        progress=False, speech=p["speech"],
        transcript=str(transcript) if transcript.is_file() and p["speech"] else None)
    row = semtalk_row(report)
    phy = report["phy"]
    return {**{k: row[k] for k in ("codec", "kbps", "channel_kbps", "psnr", "ssim", "ms_ssim", "vmaf",
                                   "concealed_frames", "resynth_wer", "pesq_wb", "speech_kbps", "rtf")},
            "table": "call", "packet_loss": phy["packet_loss"], "face_packet_loss": report["network"]["loss_rate"],
            "channel_uses_per_s": phy["channel_uses_per_s"],
            "video_channel_uses_per_s": phy["video"]["channel_uses_per_s"], "cbr": phy["video"]["cbr"],
            "ber_uncoded": phy["ber_uncoded"], "ber_coded": phy["ber_coded"], "bler": phy["bler"],
            "words_sent": (report.get("speech") or {}).get("words_sent"),
            "concealed_words": row["concealed_words"], "details": json.dumps(phy, sort_keys=True)}


# -- the PHY alone -----------------------------------------------------------------------------------------

def radio_phy_method(task: Task, env: BenchEnv) -> dict:
    """BER (uncoded, coded) and BLER of ``PHY_PACKETS`` random packets, and the closed-form uncoded BER.

    The uncoded BER is per coded bit, so its reference is at Eb/N0 = Es/N0 − 10·log10(m): Q(√(2Eb/N0)) over
    AWGN and ½(1 − √(γ/(1+γ))) over Rayleigh (``phy.theory``), exact for Gray BPSK/QPSK; higher orders have none
    drawn.
    """
    from semtalk.phy.modem import bits_per_symbol
    from semtalk.phy.radio import DigitalRadio
    from semtalk.phy.theory import ber_bpsk_awgn, ber_bpsk_rayleigh

    p = task.params
    radio = DigitalRadio(radio_config(p))
    rng = np.random.default_rng(task.seed)
    packets = [rng.bytes(PHY_PACKET_BYTES) for _ in range(PHY_PACKETS)]
    outcome = radio.transmit(packets, p["snr"], rng)
    m = bits_per_symbol(p["modulation"])
    ebno = p["snr"] - 10 * math.log10(m)
    theory = None
    if m <= 2:
        theory = float((ber_bpsk_awgn if p["channel"] == "awgn" else ber_bpsk_rayleigh)(ebno))
    return {"table": "phy", "codec": p["modulation"], "ber_uncoded": outcome.ber_uncoded,
            "ber_coded": outcome.ber_coded, "bler": outcome.bler, "packet_loss": outcome.packet_loss,
            "theory_ber_uncoded": theory, "ebno_db": ebno, "bits": outcome.info_bits,
            "channel_uses_per_s": None}


# -- the suite -------------------------------------------------------------------------------------------

def run_suite(data: Path, out: Path, options: BenchOptions = BenchOptions(), grid: RadioGrid | None = None,
              progress: bool = True) -> list[dict]:
    """Prepare every clip (KB, crops, ASR: the SyncSC suite's ``prepare``), run the grid, write the report."""
    from semtalk.bench.radio_report import write_all
    from semtalk.bench.runner import CACHE_NAME, open_executor, prepare_clips, run

    grid = grid or (RadioGrid.quick() if options.quick else RadioGrid.full())
    env = BenchEnv.of_suite(data, Path(out) / "work", grid.clips)
    with open_executor(options.workers, options.scheduler) as executor:
        prepare_clips([Task.make("syncsc_prepare", c, options.seed, asr=grid.speech) for c in grid.clips], env,
                      executor, progress)
        rows = run(grid.tasks(options.seed), env, executor, cache=Path(out) / CACHE_NAME, progress=progress,
                   desc="radio")
    write_all(rows, Path(out), grid)
    return rows


def held_out(env: BenchEnv, clip: str):
    """The clip's prepared face crops (``bench.crops.FaceCrops``)."""
    from semtalk.bench.crops import FaceCrops

    return FaceCrops.load(crops_path(env, clip))

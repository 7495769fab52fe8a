"""The one registry: every swappable component, by kind and name.

Entries are ``"module:Class"`` strings imported on first use, so ``import semtalk`` stays light and
nothing registers itself by import side effect (house rule 3). The CLI, configs and the benchmark
all read this table; there is no second one.
"""

from __future__ import annotations

import importlib
from typing import Any

REGISTRY: dict[str, dict[str, str]] = {
    "fec": {
        "none": "semtalk.fec.base:NoFec",
        "rs": "semtalk.fec.reed_solomon:ReedSolomonFec",
        "pacsc": "semtalk.learned.pacsc.code:PacscFec",
        "pacsc-mae": "semtalk.learned.pacsc.code:PacscMaeFec",
    },
    "channel": {
        "bernoulli": "semtalk.channel.packet_loss:BernoulliLoss",
        "gilbert_elliott": "semtalk.channel.packet_loss:GilbertElliottLoss",
        "awgn": "semtalk.channel.radio:RadioChannel",
        "rayleigh": "semtalk.channel.radio:RadioChannel",
    },
    "mode": {
        "syncsc": "semtalk.modes.syncsc.mode:SyncscMode",
        "wav2vid": "semtalk.modes.wav2vid.mode:Wav2vidMode",
        "lgmtsc": "semtalk.modes.lgmtsc.mode:LgmtscMode",
        "m3e": "semtalk.modes.m3e.mode:M3eMode",
    },
    # Image codecs (keyframes, the KB's pictures): factories returning an imagecodec.base.ImageCodec
    "image_codec": {
        "webp": "semtalk.imagecodec.base:webp",
        "avif": "semtalk.imagecodec.base:avif",
        "jpeg2000": "semtalk.imagecodec.base:jpeg2000",
        "jpeg": "semtalk.imagecodec.base:jpeg",
        "seb": "semtalk.imagecodec.seb:seb",
        "seb-low": "semtalk.imagecodec.seb:seb_low",
        "seb-high": "semtalk.imagecodec.seb:seb_high",
    },
    # M3E-VSC's text → media generators (VQGAN): named, documented, no weights offline (docs/m3e.md)
    "text_generator": {
        "vqgan-image": "semtalk.modes.m3e.vqgan:vqgan_image",
        "vqgan-audio": "semtalk.modes.m3e.vqgan:vqgan_audio",
    },
    # The language-model knowledge base (LGM-TSC): cls(domain: bytes | None = None, **options), a LanguageKB
    "lm": {
        "ngram": "semtalk.language.ngram:NGramKB",
        "smollm2": "semtalk.language.smollm:SmolLMKB",
        "openai": "semtalk.language.endpoint:EndpointKB",
    },
    # Benchmark suites: run_suite(data, out, bench.runner.BenchOptions) -> rows; results.md in out.
    "bench_suite": {
        "foundation": "semtalk.bench.foundation:run_suite",
        "speech": "semtalk.bench.speech:run_suite",
        "syncsc": "semtalk.bench.syncsc:run_suite",
        "pacsc": "semtalk.bench.pacsc:run_suite",
        "radio": "semtalk.bench.radio:run_suite",
        "wav2vid": "semtalk.bench.wav2vid:run_suite",
        "lgmtsc": "semtalk.bench.lgmtsc:run_suite",
        "seb": "semtalk.bench.seb:run_suite",
        "m3e": "semtalk.bench.m3e:run_suite",
    },
    # Benchmark cells: functions (task, env) -> row dict that the harness (bench.runner) runs by name.
    "bench_method": {
        "syncsc_prepare": "semtalk.bench.syncsc:prepare",
        "semtalk": "semtalk.bench.syncsc:semtalk_method",
        "codec_video": "semtalk.bench.codec_cells:codec_video_method",
        "codec_speech": "semtalk.bench.codec_cells:codec_speech_method",
        "semtalk_loss": "semtalk.bench.loss_cells:semtalk_loss_method",
        "text_rate": "semtalk.bench.text_cells:text_rate_method",
        "text_loss": "semtalk.bench.text_cells:text_loss_method",
        "complexity": "semtalk.bench.syncsc:complexity_method",
        "semtalk_radio": "semtalk.bench.radio:semtalk_radio_method",
        "radio_phy": "semtalk.bench.radio:radio_phy_method",
        "codec_radio_video": "semtalk.bench.radio_cells:codec_radio_video_method",
        "codec_radio_speech": "semtalk.bench.radio_cells:codec_radio_speech_method",
        "jpeg_radio": "semtalk.bench.radio_cells:jpeg_radio_method",
        "wav2vid_call": "semtalk.bench.wav2vid:wav2vid_call_method",
        "wav2vid_syncsc": "semtalk.bench.wav2vid:wav2vid_syncsc_method",
        "txt2vid": "semtalk.bench.txt2vid:txt2vid_method",
        "wav2vid_table": "semtalk.bench.wav2vid_cells:wav2vid_table_method",
        "lgmtsc_prepare": "semtalk.bench.lgmtsc:lgmtsc_prepare",
        "seb_keyframes": "semtalk.bench.seb:seb_keyframes",
        "seb_rd": "semtalk.bench.seb:seb_rd_method",
        "seb_radio": "semtalk.bench.seb_radio:seb_radio_method",
        "lgmtsc_text": "semtalk.bench.lgmtsc:lgmtsc_text_method",
        "lgmtsc_call": "semtalk.bench.lgmtsc:lgmtsc_call_method",
        "lgmtsc_txt2vid": "semtalk.bench.lgmtsc:lgmtsc_txt2vid_method",
        "lgmtsc_fig8": "semtalk.bench.lgmtsc_cells:lgmtsc_fig8_method",
        "m3e_text": "semtalk.bench.m3e:m3e_text_method",
        "m3e_call": "semtalk.bench.m3e:m3e_call_method",
        "m3e_h265": "semtalk.bench.m3e:m3e_h265_method",
        "m3e_fill": "semtalk.bench.m3e_fill:m3e_fill_method",
    },
}


def names(kind: str) -> list[str]:
    """Registered names of one kind, sorted (what the CLI offers as choices)."""
    return sorted(_table(kind))


def get(kind: str, name: str) -> Any:
    """The class registered as ``name`` under ``kind``, imported now."""
    table = _table(kind)
    if name not in table:
        raise ValueError(f"unknown {kind} '{name}'; choose one of: {', '.join(sorted(table))}")
    module, _, attr = table[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def _table(kind: str) -> dict[str, str]:
    if kind not in REGISTRY:
        raise ValueError(f"unknown component kind '{kind}'; kinds: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[kind]

"""Speech for ASC: training pools and held-out utterances (16 kHz mono float32), and the chunks training draws.

Sources — never the HDTF / LRS2 clips, on which the codec is scored:

- ``DATA/speech/*.wav|flac`` (read speech: LibriSpeech, LJSpeech, JFK), except ``HELDOUT_SPEECH``;
- the audio of ``DATA/faces_av/grid_*.mpg`` (GRID command sentences, five speakers);
- piper's shipped voice (``generators.tts``) speaking ``SENTENCES`` at ``LENGTH_SCALES``, synthesised once and
  cached in ``CACHE/tts.npz``; the last ``HELDOUT_SENTENCES`` are held out, at speaking rate 1.

Training utterances are also resampled to ``SPEEDS`` (tempo and pitch ×1.11 and ×0.91) for more voices.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from semtalk.dsp.signal import resample
from semtalk.learned.asc.config import CHUNK_SAMPLES, SAMPLE_RATE

HELDOUT_SPEECH = "librispeech_1272-128104-0000"
HELDOUT_SENTENCES = 8
LENGTH_SCALES = (0.85, 1.2)  # piper's speaking rates for the training sentences
SPEEDS = (14400, 16000, 17600)  # resampling targets of every training utterance (16000: as is)
ACTIVE = 0.1  # a chunk quieter than this × its utterance's RMS is redrawn (up to 8 times) ...
KEEP_QUIET = 0.1  # ... unless this share of draws, so that pauses are coded too
LEVEL_DB = (-35.0, -12.0)  # utterance RMS after the random gain, dBFS
NOISE_SHARE, NOISE_DB = 0.3, (20.0, 45.0)  # share of chunks with white noise this far below the chunk's RMS

SENTENCES = (  # written for this corpus; the last HELDOUT_SENTENCES are held out
    "The council approved a new budget on Monday after three hours of heated debate.",
    "Heavy rain is expected across the north tonight, with gusts of up to sixty miles an hour.",
    "Shares in the airline rose by eight percent when it reported higher summer bookings.",
    "Scientists say the glacier has lost a quarter of its mass in just twenty years.",
    "The minister refused to comment on reports that she would resign before the election.",
    "Police have closed the motorway between junctions four and six after a lorry overturned.",
    "A rare painting found in an attic sold at auction for almost two million pounds.",
    "The hospital says it will need another two hundred nurses by the end of the year.",
    "Fans queued outside the stadium from dawn to buy tickets for the final.",
    "Engineers are testing a bridge that can carry trains at three hundred kilometres an hour.",
    "Unemployment fell slightly last quarter, although wages are still rising slowly.",
    "The festival returns next month with more than forty bands on four stages.",
    "Farmers warn that the dry spring could push up the price of bread and vegetables.",
    "A spokesman for the company said the outage was caused by a faulty software update.",
    "The museum will reopen in July after a long and expensive restoration.",
    "Could you send me the report before lunch, please?",
    "I think we should leave early, because the traffic gets terrible after five.",
    "Honestly, I have no idea where I put my keys this morning.",
    "Would you like tea or coffee while you wait?",
    "That was the best concert I have been to in years!",
    "Let me check my calendar and get back to you tomorrow.",
    "We missed the last bus, so we walked home in the rain.",
    "My grandmother still writes letters by hand to all her friends.",
    "Why does the printer always jam when I am in a hurry?",
    "Turn left at the church, then take the second road on the right.",
    "She practised the violin every evening for ten years before her first recital.",
    "The children built a huge sandcastle and watched the tide wash it away.",
    "He opened the window, and the smell of fresh bread drifted in from the bakery.",
    "Please remember to switch off the lights when you leave the office.",
    "Our flight was delayed by four hours, but the crew were wonderfully patient.",
    "The recipe calls for two eggs, a cup of flour and a pinch of salt.",
    "If it snows again tomorrow, the schools will probably stay closed.",
    "Nobody expected the underdog team to win the championship this season.",
    "The new phone has a larger screen, a faster chip and a much better camera.",
    "Thank you all for coming, and please help yourselves to sandwiches.",
    "The old lighthouse has guided ships along this rocky coast for a century.",
    "Quiet please, the recording starts in five, four, three, two, one.",
    "Jupiter is the largest planet in our solar system, and it has dozens of moons.",
    "Bright yellow taxis lined the avenue outside the theatre.",
    "The judge adjourned the trial until Thursday morning.",
    "Vaccination rates among teenagers have risen sharply since the spring campaign.",
    "The orchestra rehearsed the symphony twice before the evening performance.",
    "A magnitude six earthquake shook the coastal city early on Sunday.",
    "Voters in the southern districts will go to the polls next week.",
    "The central bank held interest rates at four and a half percent.",
    "Wildfires have forced thousands of people to leave their homes in the valley.",
    "The striker scored twice in the second half to seal a comfortable victory.",
    "Researchers have developed a battery that charges fully in under ten minutes.",
    "The mayor promised to plant ten thousand trees across the city by next autumn.",
    "Thick fog disrupted flights at several airports this morning.",
    "The chef sliced the onions, crushed the garlic and heated the pan.",
    "What time does the pharmacy close on Saturdays?",
    "I would rather stay in and read a good book tonight.",
    "Excuse me, is this seat taken?",
    "The cat jumped onto the kitchen table and knocked over a glass of milk.",
    "We are going camping in the mountains for the long weekend.",
    "Did you hear the thunder last night? It woke the whole street.",
    "Six hundred and fifty-two passengers were on board when the ship left port.",
    "The lecture on ancient Rome was fascinating, but far too long.",
    "Keep your receipt in case you need to return the jacket.",
    "Every morning he jogs five kilometres along the canal before work.",
    "The volunteers collected more than a tonne of litter from the beach.",
    "Our team meeting has moved to half past three in the small conference room.",
    "Please spell your surname and give me your date of birth.",
    "The river burst its banks and flooded the fields for miles around.",
    "A flock of geese flew low over the village in a perfect V.",
    "I can't believe how quickly the summer has gone.",
    "The train now arriving at platform two is the nine fifteen to Manchester.",
    "Add the milk slowly, stirring all the time so that the sauce does not burn.",
    "Astronauts on the space station will carry out a six hour spacewalk on Friday.",
    "The library lends books, films, music and even gardening tools.",
    "Several witnesses described a loud bang followed by a cloud of black smoke.",
    "The government plans to build three hundred thousand homes a year.",
    "He whispered the answer, but the whole class still heard it.",
    "This is a recorded message. Our offices are now closed.",
    "The price of gold reached a record high on Wednesday afternoon.",
    "Small businesses say rising energy bills are squeezing their profits.",
    "She laughed so hard that she almost fell off her chair.",
    "The marathon route passes the cathedral, the castle and the harbour.",
    "Drivers are urged to take extra care on icy roads this evening.",
    "I'll call you back as soon as I land in Chicago.",
    "The committee will publish its findings in a report next spring.",
    "Mount Everest is roughly eight thousand eight hundred and forty-nine metres high.",
    "The puppy chewed through the cable of my brand new headphones.",
    "They painted the fence bright blue and planted roses along the path.",
    "Exports of cars and machinery climbed for the third month in a row.",
    "Be careful, the floor is still wet from the cleaning.",
    "Professor Okafor will give the opening speech at the conference.",
    "The storm knocked out power to forty thousand homes overnight.",
    "How many languages do you speak, and which one did you learn first?",
    "The bakery on the corner sells the best croissants in town.",
    "An unusual comet will be visible to the naked eye later this month.",
    "We need to fix the leaking roof before the winter arrives.",
    "The negotiations broke down after the unions rejected the latest offer.",
    "Our guide pointed out the ruins of a Roman fort on the hillside.",
    "Rain, hail, sleet and snow: the weather changed four times in an hour.",
    "Zebras, giraffes and elephants gathered at the waterhole at sunset.",
    "The quarterly results beat expectations, and the shares jumped sharply.",
    "Measure twice and cut once, as my father always said.",
    "Firefighters rescued a family of five from the burning building.",
    "The referee blew the whistle and the crowd erupted.",
    "Fresh strawberries are finally back in season at the market.",
    "The software engineer fixed the bug in under an hour.",
    "Tourists crowded the square to watch the changing of the guard.",
    "Her novel, written over seven years, has been shortlisted for a major prize.",
    "If you have any questions, please raise your hand.",
    "The tunnel under the river will open to traffic in twenty twenty-seven.",
    "A thick layer of dust covered the piano in the abandoned hall.",
    "Good evening, and welcome to the late news.",
    "The harvest was late this year because of the cold and wet summer.",
)


@dataclass(frozen=True)
class Corpus:
    """Training pools (real recordings, synthetic speech) and named held-out utterances."""

    real: tuple[np.ndarray, ...]
    tts: tuple[np.ndarray, ...]
    heldout: dict[str, np.ndarray]

    @property
    def seconds(self) -> tuple[float, float]:
        """Training audio (real, synthetic) in seconds, speed variants included."""
        return tuple(sum(len(a) for a in pool) / SAMPLE_RATE for pool in (self.real, self.tts))


def real_speech(data: Path) -> dict[str, np.ndarray]:
    """Every allowed real recording under ``data`` (``speech/`` files and GRID clips' audio), by file stem."""
    from semtalk.media.reader import read_audio

    paths = sorted([*data.glob("speech/*.wav"), *data.glob("speech/*.flac"), *data.glob("faces_av/grid_*.mpg")])
    if not paths:
        raise FileNotFoundError(f"no speech/*.wav|flac or faces_av/grid_*.mpg under {data}")
    return {p.stem: read_audio(p, rate=SAMPLE_RATE) for p in paths}


def tts_speech(cache: Path) -> dict[str, np.ndarray]:
    """Piper speaking every sentence (training ones at each of ``LENGTH_SCALES``), cached in ``cache/tts.npz``."""
    items = [(f"tts{i:03d}x{s}", text, s) for i, text in enumerate(SENTENCES[:-HELDOUT_SENTENCES])
             for s in LENGTH_SCALES]
    items += [(f"heldout_tts{i:d}", text, 1.0) for i, text in enumerate(SENTENCES[-HELDOUT_SENTENCES:])]
    key = hashlib.sha256(json.dumps(items).encode()).hexdigest()[:16]
    path = cache / "tts.npz"
    if path.is_file():
        with np.load(path) as f:
            if str(f["key"]) == key:
                return {name: f[name] for name, _, _ in items}
    from semtalk.generators.tts import synthesize

    out = {}
    for name, text, scale in items:
        syn = synthesize(text, length_scale=scale)
        out[name] = resample(syn.audio, syn.rate, SAMPLE_RATE).astype(np.float32)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, key=key, **out)
    return out


def load_corpus(data: Path, cache: Path) -> Corpus:
    """The training pools and held-out utterances (see the module docstring)."""
    real, tts = real_speech(data), tts_speech(cache)
    heldout = {name: a for name, a in {**real, **tts}.items() if name == HELDOUT_SPEECH or name.startswith("heldout")}

    def speeds(pool: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
        return tuple(resample(a, SAMPLE_RATE, rate).astype(np.float32) for name, a in pool.items()
                     if name not in heldout for rate in SPEEDS)

    return Corpus(speeds(real), speeds(tts), heldout)


def sample_chunks(pools: Sequence[Sequence[np.ndarray]], shares: Sequence[float], n: int,
                  rng: np.random.Generator) -> np.ndarray:
    """``n`` random training chunks (n, CHUNK_SAMPLES) float32: a pool by ``shares``, an utterance, a window
    (mostly speech, see ``ACTIVE``), a random level, sign and, for some, a faint white noise."""
    out = np.zeros((n, CHUNK_SAMPLES), np.float32)
    for i in range(n):
        pool = pools[rng.choice(len(pools), p=shares)]
        for _ in range(8):
            a = pool[rng.integers(len(pool))]
            start = int(rng.integers(0, max(1, len(a) - CHUNK_SAMPLES + 1)))
            w = a[start:start + CHUNK_SAMPLES]
            level = float(np.sqrt(np.mean(np.square(a))))
            if np.sqrt(np.mean(np.square(w))) >= ACTIVE * level or rng.random() < KEEP_QUIET:
                break
        gain = 10 ** (rng.uniform(*LEVEL_DB) / 20) / max(level, 1e-6) * rng.choice((-1.0, 1.0))
        out[i, :len(w)] = gain * w
        if rng.random() < NOISE_SHARE:
            rms = max(float(np.sqrt(np.mean(np.square(out[i])))), 1e-5)
            out[i] += rms * 10 ** (-rng.uniform(*NOISE_DB) / 20) * rng.standard_normal(CHUNK_SAMPLES)
    return out

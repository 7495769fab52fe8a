"""Learning the ANFIS length controller from data: what each length class is worth at each SNR, then Jang's
hybrid learning of eqs. 12–17.

Data (``utilities``): every training sentence is cut to each length class by the knowledge base, sent through
the learned text coder and the channel, and scored by the semantic similarity of what arrives to the *full*
original sentence. The utility of a class at an SNR is the mean similarity; the best class there is the label.
Shorter text wins only where the channel is bad: under a fixed budget per message (the paper's fixed number of
symbols per message; here a shortened sentence repeats its symbols to fill the full sentence's slot,
``slot_transmit``) fewer tokens mean more energy per token.

Fit (``hybrid_fit``): the logits z_k (eq. 16) are regressed on the utilities, centred per SNR and divided by a
temperature τ, t_k = (u_k − mean_j u_j)/τ, so that the softmax of eq. 17 becomes a Boltzmann choice over the
expected similarity. Utilities rather than one-hot labels keep the margins: where two classes are nearly as good
the fit is not forced to a hard step, and the argmax of z (the choice) does not depend on τ, because the least
squares solution is linear in the targets. One squared error E = ½·mean_n Σ_k (z_nk − t_nk)² serves both passes,
as in Jang (1993): with the premises fixed z is linear in (p, r), so least squares gives the optimal consequents;
with the consequents fixed, a gradient step moves the premises (a, b, c).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from semtalk.learned.anfis.model import LENGTH_CLASSES, LENGTH_RATIOS, Anfis, initial_anfis

TEMPERATURE = 0.05  # a 0.05 gain in mean similarity is worth a factor e in P(k|x)
A_MIN, B_MIN = 0.5, 1.0  # premise bounds: widths of at least 0.5 dB, bells smooth at their centre (b ≥ 1)

Transmit = Callable[[str, float, int], str]
Channel = Callable[[np.ndarray, float, np.random.Generator], np.ndarray]


def targets(utility: ArrayLike, temperature: float = TEMPERATURE) -> np.ndarray:
    """Regression targets for the logits: t_k = (u_k − mean_j u_j)/τ per row (see the module docstring)."""
    u = np.asarray(utility, float)
    return (u - u.mean(axis=-1, keepdims=True)) / temperature


def loss(model: Anfis, x: ArrayLike, targets: np.ndarray) -> float:
    """E = ½·mean_n Σ_k (z_nk − t_nk)², the objective of both passes of the hybrid learning."""
    return float(0.5 * np.mean(np.sum((model.logits(x) - targets) ** 2, axis=-1)))


def least_squares_step(model: Anfis, x: ArrayLike, targets: np.ndarray) -> Anfis:
    """Forward pass: with the premises fixed z_k = Σ_i w̄_i·(p_ik·x + r_ik) is linear in (p, r), so the consequents
    that minimise E are a least-squares solution, one column per class (minimum norm if rank-deficient)."""
    x = model.inputs(x)
    wbar = model.normalised(x)  # [n, rule]
    design = np.concatenate([wbar * x[:, None], wbar], axis=1)  # [n, 2·rules]: p columns, then r columns
    theta, *_ = np.linalg.lstsq(design, np.asarray(targets, float), rcond=None)  # [2·rules, class]
    rules = wbar.shape[1]
    return Anfis(model.premises, np.stack([theta[:rules], theta[rules:]], axis=-1), model.domain)


def premise_gradient(model: Anfis, x: ArrayLike, targets: np.ndarray) -> np.ndarray:
    """∂E/∂(a, b, c) per rule, shape [rule, 3], with the consequents fixed.

    Each premise acts through its own μ_i: ∂z_k/∂μ_i = (f_ik − z_k)/Σ_j μ_j, and the bell of eq. 12 gives
    ∂μ/∂a = (2b/a)·μ(1 − μ), ∂μ/∂b = −2·ln|u|·μ(1 − μ), ∂μ/∂c = (2b/(x − c))·μ(1 − μ), u = (x − c)/a; the
    product is (f_ik − z_k)·w̄_i·(1 − μ_i)·g with g the factor before μ(1 − μ) (0 at x = c, where μ is flat)."""
    x = model.inputs(x)
    a, b, c = model.premises.T
    mu, wbar = model.memberships(x), model.normalised(x)  # [n, rule]
    f = model.consequents[..., 0] * x[:, None, None] + model.consequents[..., 1]  # [n, rule, class]
    z = np.einsum("ni,nik->nk", wbar, f)
    dz_dmu = np.einsum("nk,nik->ni", z - targets, f - z[:, None, :]) * wbar * (1.0 - mu)  # [n, rule]
    dx = x[:, None] - c
    off = dx != 0
    safe = np.where(off, dx, 1.0)
    factors = np.stack([np.broadcast_to(2 * b / a, dx.shape),
                        np.where(off, -2.0 * np.log(np.abs(safe / a)), 0.0),
                        np.where(off, 2 * b / safe, 0.0)], axis=-1)  # [n, rule, (a, b, c)]
    return np.mean(dz_dmu[..., None] * factors, axis=0)


def premise_gradient_step(model: Anfis, x: ArrayLike, targets: np.ndarray, lr: float) -> Anfis:
    """Backward pass: move the premises a distance ``lr`` (dB for a and c) against ∂E/∂(a, b, c), Jang's
    normalised step Δθ = −κ·∇E/‖∇E‖ (one step size for parameters of very different gradient scales), then keep
    a ≥ A_MIN and b ≥ B_MIN."""
    grad = premise_gradient(model, x, targets)
    norm = float(np.linalg.norm(grad))
    if norm == 0.0:
        return model
    premises = model.premises - lr * grad / norm
    premises[:, 0] = np.maximum(premises[:, 0], A_MIN)
    premises[:, 1] = np.maximum(premises[:, 1], B_MIN)
    return Anfis(premises, model.consequents, model.domain)


def hybrid_fit(snr: ArrayLike, utility: ArrayLike, init: Anfis, epochs: int = 200, lr: float = 0.5,
               temperature: float = TEMPERATURE) -> tuple[Anfis, list[float]]:
    """Jang's hybrid learning on (SNR, utility [n, class]) rows from ``init``, its domain narrowed to the SNRs
    given (the universe the rule base is fitted on): least squares for the consequents,
    then per epoch a premise gradient step followed by least squares again. A step that does not lower E is
    refused and the step size halved; an accepted one grows it by 10 % (Jang's step-size heuristic, made
    monotone), so the returned history of E (one entry per epoch, after the first least-squares step) never
    rises. Deterministic."""
    x, t = np.asarray(snr, float), targets(utility, temperature)
    model = least_squares_step(Anfis(init.premises, init.consequents, (x.min(), x.max())), x, t)
    history = [loss(model, x, t)]
    for _ in range(epochs):
        trial = premise_gradient_step(model, x, t, lr)
        if loss(trial, x, t) < history[-1]:
            model, lr = least_squares_step(trial, x, t), lr * 1.1
        else:
            lr *= 0.5
        history.append(loss(model, x, t))
    return model, history


def labels(utility: ArrayLike) -> list[str]:
    """The best length class per row of utilities: the class the controller should choose at that SNR."""
    return [LENGTH_CLASSES[k] for k in np.argmax(np.asarray(utility, float), axis=-1)]


def utilities(sentences: Iterable[str], snrs: Sequence[float], shorten: Callable[[str, float], str],
              transmit: Transmit, similarity: Callable[[str, str], float], seeds: Sequence[int],
              keep_going: Callable[[int], bool] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean received semantic similarity of each length class at each SNR: (snr [m], utility [m, class]).

    Each sentence is shortened to every class ratio (``full`` is the sentence itself), sent with
    ``transmit(text, snr, seed)`` and scored by ``similarity(full sentence, received)``, so that a short text is
    charged for the words it dropped as well as credited for arriving intact. Noise seeds are drawn per sentence
    and shared by all classes and SNRs (common random numbers: the classes are compared on the same noise). The
    ``transmit`` callable carries the symbol-budget policy. ``keep_going(done)``, called after each sentence,
    may stop early (a time budget); the mean is then over the sentences done, the same ones at every SNR.
    """
    snr = np.asarray(snrs, float)
    if snr.ndim != 1 or not snr.size:
        raise ValueError("utilities need at least one SNR")
    if not seeds:
        raise ValueError("utilities need at least one seed")
    total, done = np.zeros((snr.size, len(LENGTH_CLASSES))), 0
    for j, sentence in enumerate(sentences):
        texts = [sentence if LENGTH_RATIOS[k] >= 1.0 else shorten(sentence, LENGTH_RATIOS[k]) for k in LENGTH_CLASSES]
        noise = [int(np.random.SeedSequence([seed, j]).generate_state(1)[0]) for seed in seeds]
        for m, s in enumerate(snr.tolist()):
            for k, text in enumerate(texts):
                total[m, k] += np.mean([similarity(sentence, transmit(text, s, n)) for n in noise])
        done += 1
        if keep_going is not None and not keep_going(done):
            break
    if not done:
        raise ValueError("utilities need at least one sentence")
    return snr, total / done


def _awgn(symbols: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """The analog link of the learned coders (unit power per symbol, AWGN at Es/N0 = ``snr_db``) on NumPy arrays."""
    import torch

    from semtalk.phy.analog import analog_channel

    with torch.no_grad():
        return analog_channel(torch.from_numpy(np.asarray(symbols, np.complex64)), snr_db, rng=rng).numpy()


def slot_transmit(coder, shorten: Callable[[str, float], str], sentences: Sequence[str],
                  channel: Channel) -> Transmit:
    """``transmit`` as the LGM-TSC sender sends (``modes.lgmtsc``): a shortened sentence repeats its symbols to
    fill the full sentence's slot (``streams.sentence.repeat``) and the receiver averages the copies (``combine``);
    the full sentence goes once. The slot of each shortened text is looked up from the sentences it came from."""
    from semtalk.streams.sentence import combine, repeat

    slots: dict[str, int] = {}
    for sentence in sentences:
        full = len(coder.encode(sentence))
        for ratio in LENGTH_RATIOS.values():
            text = sentence if ratio >= 1.0 else shorten(sentence, ratio)
            slots[text] = max(slots.get(text, 0), full)

    def transmit(text: str, snr_db: float, seed: int) -> str:
        symbols = coder.encode(text)
        if not len(symbols):
            return coder.decode(symbols).text
        sent = repeat(symbols, slots.get(text, len(symbols)))
        return coder.decode(combine(channel(sent, snr_db, np.random.default_rng(seed)), len(symbols))).text

    return transmit


def train_and_save(out: Path, *, sentences: int, snrs: Sequence[float], lm: str, seed: int, minutes: float,
                   epochs: int = 200, log: Callable[[str], None] = print) -> Anfis:
    """The real fit: ``sentences`` training sentences (evenly spaced through the corpus), the registered LM ``lm``
    as the knowledge base that shortens them, the learned text coder over AWGN as the mode sends
    (``slot_transmit``), MiniLM similarity; utilities until ``minutes`` run out, then ``hybrid_fit`` and the JSON in
    ``out`` (written atomically)."""
    from semtalk import registry
    from semtalk.atomic import atomic_bytes
    from semtalk.learned.textcoder.code import load_textcoder
    from semtalk.metrics.text import semantic_similarity
    from semtalk.text.corpora import training_sentences

    pool = training_sentences()
    texts = pool[::max(1, len(pool) // sentences)][:sentences]  # spread over the corpus, not its first articles
    knowledge, coder = registry.get("lm", lm)(), load_textcoder()
    log(f"{len(texts)} sentences, each shortened text repeated to its full sentence's slot, SNRs {list(snrs)} dB")
    transmit = slot_transmit(coder, knowledge.shorten, texts, _awgn)
    deadline = time.monotonic() + 60.0 * minutes

    def keep_going(done: int) -> bool:
        if done % 20 == 0:
            log(f"{done}/{len(texts)} sentences scored")
        if time.monotonic() < deadline:
            return True
        log(f"time budget of {minutes:g} min reached after {done} sentences")
        return False

    snr, utility = utilities(texts, snrs, knowledge.shorten, transmit, semantic_similarity, (seed,), keep_going)
    model, history = hybrid_fit(snr, utility, initial_anfis(), epochs=epochs)
    log(f"hybrid fit: squared error {history[0]:.4f} → {history[-1]:.4f} in {epochs} epochs")
    log("SNR dB  " + "  ".join(f"{k:>6}" for k in LENGTH_CLASSES) + "  best    chosen")
    for s, row, best in zip(snr, utility, labels(utility), strict=True):
        log(f"{s:6.1f}  " + "  ".join(f"{v:6.3f}" for v in row) + f"  {best:<6}  {model.choose(s)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_bytes(out, model.to_json().encode())
    return model

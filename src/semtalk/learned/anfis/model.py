"""ANFIS length controller of LGM-TSC: channel SNR (dB) in, length class of the text to send out (eqs. 12–17).

Why: at low SNR a shorter text packs fewer tokens into the same channel budget, so each token gets more energy
and survives; at high SNR dropping words only loses meaning. The knowledge base (the LM's ``shorten``) then cuts
the sentence to the chosen class: 100 % (``full``), 80–90 % (``medium``, 0.85 of the characters) or 70–80 %
(``short``, 0.75). Jang's ANFIS with one input x = SNR and three rules (low, medium, high SNR):

    x ─► μ_i(x), bell (eq. 12) ─► w_i = μ_i (eq. 13: one input, the product is the membership)
      ─► w̄_i = w_i / Σ_j w_j (eq. 14) ─► f_ik = p_ik·x + r_ik, one first-order Sugeno consequent per rule i
      and length class k (eq. 15) ─► z_k = Σ_i w̄_i·f_ik (eq. 16) ─► P(k|x) = softmax(z)_k (eq. 17)

The SNR is first clipped into the controller's universe of discourse, the SNRs it was fitted on: the linear
consequents would otherwise extrapolate (at −30 dB a slope fitted on −4…20 dB can reverse the order of the
classes), while a fuzzy rule base is only defined over its universe. The parameters are learned by
``semtalk.learned.anfis.train`` (hybrid learning); ``load_anfis`` reads the shipped ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

LENGTH_CLASSES = ("full", "medium", "short")
LENGTH_RATIOS = {"full": 1.0, "medium": 0.85, "short": 0.75}
RULES = ("low", "medium", "high")
WEIGHTS = "anfis.json"
FORMAT = "semtalk-anfis/1"


def bell(x: ArrayLike, a: ArrayLike, b: ArrayLike, c: ArrayLike) -> np.ndarray:
    """Generalised bell membership of eq. 12, μ = 1 / (1 + |(x − c)/a|^{2b}): 1 at x = c, ½ at |x − c| = a; b sets
    how steep the shoulders fall."""
    with np.errstate(over="ignore", divide="ignore"):
        return 1.0 / (1.0 + np.abs((np.asarray(x, float) - c) / a) ** (2 * np.asarray(b, float)))


def _frozen(values: ArrayLike, shape: tuple[int, ...], name: str) -> np.ndarray:
    array = np.array(values, dtype=float)
    if array.shape != shape:
        raise ValueError(f"ANFIS {name} must have shape {shape}, got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"ANFIS {name} must be finite")
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Anfis:
    """The controller's parameters: ``premises`` [rule, (a, b, c)] (eq. 12) and ``consequents``
    [rule, class, (p, r)] (eq. 15), rules in ``RULES`` order, classes in ``LENGTH_CLASSES`` order; ``domain`` is
    the universe of discourse (lowest, highest SNR in dB) that inputs are clipped into."""

    premises: np.ndarray
    consequents: np.ndarray
    domain: tuple[float, float]

    def __post_init__(self) -> None:
        premises = _frozen(self.premises, (len(RULES), 3), "premises")
        if (premises[:, 0] == 0).any():
            raise ValueError("ANFIS premise widths a must be non-zero")
        object.__setattr__(self, "premises", premises)
        object.__setattr__(self, "consequents",
                           _frozen(self.consequents, (len(RULES), len(LENGTH_CLASSES), 2), "consequents"))
        low, high = (float(v) for v in self.domain)
        if not low <= high:
            raise ValueError(f"ANFIS domain must be an interval, got {self.domain}")
        object.__setattr__(self, "domain", (low, high))

    def inputs(self, x: ArrayLike) -> np.ndarray:
        """The SNR clipped into the universe of discourse: what every layer below sees."""
        return np.clip(np.asarray(x, float), *self.domain)

    def memberships(self, x: ArrayLike) -> np.ndarray:
        """μ_i(x) of eq. 12 (= the firing strengths w_i of eq. 13), shape x.shape + (3 rules,)."""
        a, b, c = self.premises.T
        return bell(self.inputs(x)[..., None], a, b, c)

    def normalised(self, x: ArrayLike) -> np.ndarray:
        """w̄_i of eq. 14, computed as a softmax of log μ_i = −log(1 + |u|^{2b}) so that it stays defined far from
        every centre, where all μ_i underflow to 0; shape x.shape + (3 rules,)."""
        a, b, c = self.premises.T
        u = np.abs((self.inputs(x)[..., None] - c) / a)
        with np.errstate(divide="ignore"):
            log_mu = -np.logaddexp(0.0, 2 * b * np.log(u))
        return _softmax(log_mu)

    def logits(self, x: ArrayLike) -> np.ndarray:
        """z_k of eq. 16: the normalised firing strengths weight the Sugeno consequents f_ik = p_ik·x + r_ik
        (eq. 15); shape x.shape + (3 classes,)."""
        x = self.inputs(x)
        f = self.consequents[..., 0] * x[..., None, None] + self.consequents[..., 1]
        return np.einsum("...i,...ik->...k", self.normalised(x), f)

    def probabilities(self, x: ArrayLike) -> np.ndarray:
        """P(k|x) of eq. 17, the softmax over the three length classes; shape x.shape + (3 classes,)."""
        return _softmax(self.logits(x))

    def choose(self, snr_db: float) -> str:
        """The most probable length class at this SNR (a name of ``LENGTH_CLASSES``)."""
        return LENGTH_CLASSES[int(np.argmax(self.logits(float(snr_db))))]

    def to_json(self) -> str:
        """The parameters as JSON, named by rule and class so the file reads on its own."""
        return json.dumps({
            "format": FORMAT,
            "rules": list(RULES),
            "classes": list(LENGTH_CLASSES),
            "domain_db": list(self.domain),
            "premises": {rule: dict(zip("abc", row.tolist(), strict=True))
                         for rule, row in zip(RULES, self.premises, strict=True)},
            "consequents": {rule: {cls: dict(zip("pr", pr.tolist(), strict=True))
                                   for cls, pr in zip(LENGTH_CLASSES, per_class, strict=True)}
                            for rule, per_class in zip(RULES, self.consequents, strict=True)},
        }, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Anfis:
        """Read ``to_json``'s output; anything else raises ``ValueError``."""
        try:
            doc = json.loads(text)
            if doc["format"] != FORMAT:
                raise ValueError(f"unsupported ANFIS format {doc['format']!r}")
            if tuple(doc["rules"]) != RULES or tuple(doc["classes"]) != LENGTH_CLASSES:
                raise ValueError(f"ANFIS rules or classes differ from {RULES} and {LENGTH_CLASSES}")
            premises = [[doc["premises"][rule][key] for key in "abc"] for rule in RULES]
            consequents = [[[doc["consequents"][rule][k][key] for key in "pr"] for k in LENGTH_CLASSES]
                           for rule in RULES]
            low, high = doc["domain_db"]
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not an ANFIS parameter file: {exc}") from None
        return cls(np.array(premises, float), np.array(consequents, float), (low, high))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def initial_anfis() -> Anfis:
    """Hand-set starting point of the hybrid learning: bells centred at 0, 8 and 16 dB, half-width 4 dB (b = 2),
    and constant consequents that vote 1 for the rule's class (low → short, medium → medium, high → full), over
    −10…30 dB; ``hybrid_fit`` narrows the domain to the SNRs it is given."""
    premises = np.array([[4.0, 2.0, 0.0], [4.0, 2.0, 8.0], [4.0, 2.0, 16.0]])
    consequents = np.zeros((len(RULES), len(LENGTH_CLASSES), 2))
    for rule, cls in zip(RULES, ("short", "medium", "full"), strict=True):
        consequents[RULES.index(rule), LENGTH_CLASSES.index(cls), 1] = 1.0
    return Anfis(premises, consequents, (-10.0, 30.0))


@lru_cache(maxsize=1)
def load_anfis() -> Anfis:
    """The shipped controller (``weights/anfis.json``), read once from the installed package."""
    from importlib.resources import files

    return Anfis.from_json((files("semtalk") / "weights" / WEIGHTS).read_text("utf-8"))

"""Argument types shared by the verbs."""

from __future__ import annotations

import argparse
from fractions import Fraction


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:  # argparse would name this function in its message
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be ≥ 0, got {value}")
    return value


def fraction(text: str) -> float:
    """A rate written as 0.5 or 1/2."""
    try:
        return float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"not a rate like 0.5 or 1/2: {text!r}") from None

"""Seeded random number generators: everything random in the emulator comes from here, reproducibly."""

from __future__ import annotations

import random

__all__ = ["seeded"]


def seeded(*parts: object) -> random.Random:
    """A generator seeded by ``parts`` joined with ``/`` (string seeds hash the same in every process)."""
    return random.Random("/".join(map(str, parts)))  # noqa: S311 - simulation, not security

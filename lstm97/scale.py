"""The one setting that sizes every experiment: ``ci``, ``book`` or ``paper``.

* ``ci``    — minutes in total on 2 CPU cores; still shows (and asserts) each phenomenon.
* ``book``  — what the published book shows; the whole book builds in under 30 minutes.
* ``paper`` — the paper's own protocol (trial counts, stopping rules), for a GPU or long CPU runs.

Read from the environment variable ``LSTM97_SCALE`` (default ``book``) when first asked, or set
with `use`: a bad value is an error where the scale is needed, not at import.
Notebooks call `pick(ci=..., book=..., paper=...)` so the three sizes sit side by side.
"""
from __future__ import annotations

import os

SCALES = ("ci", "book", "paper")
ENV_VAR = "LSTM97_SCALE"


def _check(scale: str) -> str:
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; set {ENV_VAR} to one of {', '.join(SCALES)}")
    return scale


_current: str | None = None  # None until `use` or the first `current()`, which reads ENV_VAR


def use(scale: str) -> str:
    """Set the scale for this process and return it."""
    global _current
    _current = _check(scale)
    return _current


def current() -> str:
    """The scale in force: ``"ci"``, ``"book"`` or ``"paper"``."""
    return _current or use(os.environ.get(ENV_VAR, "book").strip().lower())


def pick(*, ci, book, paper):
    """Return the argument named by the current scale."""
    return {"ci": ci, "book": book, "paper": paper}[current()]

"""The squashing functions of the paper's experiments (Appendix A.1, eqs. 3–5).

Each returns the value and its derivative at once, since every caller needs both.

| name | function | range | used for |
|---|---|---|---|
| f  | 1 / (1 + e^-x)     | [0, 1]  | gates, output units, conventional hidden units |
| g2 | 4 / (1 + e^-x) - 2 | [-2, 2] | cell input g (all experiments but 2a/2b) |
| g1 | 1 / (1 + e^-x)     | [0, 1]  | cell input g in 2a/2b |
| h1 | 2 / (1 + e^-x) - 1 | [-1, 1] | cell output h (all experiments but 2a/2b) |
| id | x                  | R       | cell output h in 2a/2b |

(tanh, for the later variants' g and h, is in `lstm97.later`.)

Table 10's caption swaps the ranges of h and g; the appendix and the experiment texts agree
with the table above (spec decision 1).
"""
from __future__ import annotations

from . import backend


def _sigmoid(x):
    xp = backend.xp()
    return 1.0 / (1.0 + xp.exp(-x))


def f(x):
    y = _sigmoid(x)
    return y, y * (1.0 - y)


def g2(x):
    y = _sigmoid(x)
    return 4.0 * y - 2.0, 4.0 * y * (1.0 - y)


def g1(x):
    return f(x)


def h1(x):
    y = _sigmoid(x)
    return 2.0 * y - 1.0, 2.0 * y * (1.0 - y)


def identity(x):
    return x, backend.xp().ones_like(x)


SQUASH = {"f": f, "g1": g1, "g2": g2, "h1": h1, "id": identity}

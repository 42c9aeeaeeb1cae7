"""All weights of a network in one flat vector, with named views.

Gradient checks, optimisers, checkpoints and fused kernels all see the same memory. A batch of
independent networks is a matrix of shape (B, P): one row per network.
"""
from __future__ import annotations

import math

from . import backend


class Layout:
    """Named blocks of a flat parameter vector: ``Layout([("W", (3, 4)), ("b", (3,))])``."""

    def __init__(self, blocks: list[tuple[str, tuple[int, ...]]]):
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.slices: dict[str, slice] = {}
        start = 0
        for name, shape in blocks:
            if name in self.shapes:
                raise ValueError(f"duplicate parameter block {name!r}")
            size = math.prod(shape)
            self.shapes[name], self.slices[name] = tuple(shape), slice(start, start + size)
            start += size
        self.size = start

    def views(self, theta) -> dict:
        """Each block of `theta` (shape (..., size)) reshaped to (..., *shape), sharing memory."""
        if theta.shape[-1] != self.size:
            raise ValueError(f"parameter vector has {theta.shape[-1]} entries, the layout needs {self.size}")
        lead = theta.shape[:-1]
        return {n: theta[..., s].reshape(lead + self.shapes[n]) for n, s in self.slices.items()}

    def __contains__(self, name: str) -> bool:
        return name in self.shapes

    def __repr__(self) -> str:
        blocks = ", ".join(f"{n}{list(s)}" for n, s in self.shapes.items())
        return f"Layout({blocks}; {self.size} parameters)"


def per_network(lr, a):
    """lr * a, where lr is one learning rate or one per network (the leading axis of a): a sweep
    over learning rates runs as one batch."""
    lr = backend.xp().asarray(lr, dtype=float)
    return lr.reshape(lr.shape + (1,) * (a.ndim - lr.ndim)) * a

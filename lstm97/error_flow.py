"""How an error signal is scaled on its way back through time (paper Sec. 3.1, eqs. 1–2).

For a net of n logistic units with weights w_ij (from unit j to unit i) and error signals
theta_j(t) = f'_j(net_j(t)) sum_i w_ij theta_i(t+1), the error sent from unit u at time t
reaches unit v at time t-q scaled by d theta_v(t-q) / d theta_u(t). Eq. (1) computes it by a
backward recursion, eq. (2) as a sum over all n^(q-1) paths of products f'(net) * w.

Arrays: `W` has shape (B, n, n) (B independent nets, row i = weights into unit i) and
`fprime` shape (B, T, n), f'_j(net_j(s)) at every step s. The error is injected at the last
step t = T - 1.
"""
from __future__ import annotations

import itertools

import numpy as np

from . import backend


def scaling_factors(W, fprime, q_max: int | None = None):
    """d theta_v(t-q) / d theta_u(t) for q = 1 .. q_max by the recursion of eq. (1).

    Returns shape (B, q_max, n, n), indexed [b, q-1, v, u]. In matrix form eq. (1) reads
    J_q = F'(t-q) W^T J_{q-1} with J_0 the identity: one step back multiplies by W^T and by
    the derivatives of the earlier step.
    """
    xp = backend.xp()
    B, T, n = fprime.shape
    if W.shape != (B, n, n):
        raise ValueError(f"W must have shape (B, n, n) = {(B, n, n)}, got {tuple(W.shape)}")
    q_max = T - 1 if q_max is None else q_max
    if not 1 <= q_max <= T - 1:
        raise ValueError(f"q_max must be in 1..{T - 1} for {T} steps, got {q_max}")
    t = T - 1
    J = xp.broadcast_to(xp.eye(n), (B, n, n))
    out = xp.zeros((B, q_max, n, n))
    Wt = W.transpose(0, 2, 1)
    for q in range(1, q_max + 1):
        J = fprime[:, t - q, :, None] * (Wt @ J)  # eq. (1): f'_v(net_v(t-q)) sum_l w_lv J[l, u]
        out[:, q - 1] = J
    return out


def path_sum(W: np.ndarray, fprime: np.ndarray, u: int, v: int, q: int) -> float:
    """Eq. (2) for one net (W (n, n), fprime (T, n)): the sum over all paths u -> l_1 -> ... -> v
    of prod_m f'_{l_m}(net(t-m)) w_{l_m l_{m-1}}. Costs n^(q-1) terms: small nets only."""
    T, n = fprime.shape
    t, total = T - 1, 0.0
    for middle in itertools.product(range(n), repeat=q - 1):
        path = (u, *middle, v)  # l_0 = u, l_q = v
        prod = 1.0
        for m in range(1, q + 1):
            prod *= fprime[t - m, path[m]] * W[path[m - 1], path[m]]
        total += prod
    return total


def norm_bound(W, q: int, fprime_max: float = 0.25):
    """The weak upper bound of Sec. 3.1: |d theta_v(t-q) / d theta_u(t)| <= n (f'_max ||W||_A)^q.

    ||W||_A is the norm induced by the max-norm on the matrix that carries the error back
    (W^T here; the paper writes its matrices transposed): the largest absolute column sum of W.
    f'_max = 0.25 for the logistic function. Shape (B,).
    """
    xp = backend.xp()
    n = W.shape[-1]
    norm_A = xp.abs(W).sum(axis=-2).max(axis=-1)
    return n * (fprime_max * norm_A) ** q

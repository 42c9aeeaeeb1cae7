"""Conventional recurrent nets of logistic units and their two exact gradients (chapter 2).

These are the competitors the paper beats: a hidden layer of fully recurrent logistic units and
a layer of logistic output units, trained by back-propagation through time (BPTT) or by
real-time recurrent learning (RTRL, Williams & Zipser 1989). Both compute the exact gradient of
the same loss; RTRL does it forward in time, as the 1997 LSTM will.

Per time step (the paper's Sec. 5 order: inputs, then hidden units, then outputs):

    h(t) = f(W_hx x(t) + W_hh h(t-1) + b_h),   h(-1) = 0
    y(t) = f(W_yh h(t) + W_yx x(t) + b_y)       (W_yx: outputs also see the inputs, layout "B")

with f the logistic function. The loss of one sequence is L = 1/2 sum_t sum_k m(t) (y_k(t) - d_k(t))^2
over the steps m(t) that carry a target. The paper's E (eq. 16) has no 1/2 but its output error
(eq. 19) drops the factor 2, so both describe the same gradient up to the learning rate.

All arrays carry a leading axis of B independent networks, each with its own weights (a row of
`theta`, shape (B, P)) and its own sequence. `RNN` is a `learner.Learner` with none of the
optional abilities.
"""
from __future__ import annotations

import numpy as np

from . import backend
from .learner import Learner
from .params import Layout, per_network


def logistic(x):
    xp = backend.xp()
    return 1.0 / (1.0 + xp.exp(-x))


class RNN(Learner):
    """A conventional recurrent net; `algorithm` ("bptt", "rtrl" or "elman") is how it learns.

    "elman" is the simple recurrent net of Elman (1990) and Cleeremans et al. (1989): the hidden
    activations of the previous step are a constant "context" input, so the gradient is truncated
    after one step (RTRL with the sensitivities' recurrent term dropped), learned online like RTRL.

    `init_range`: weights start uniform in [-init_range, init_range] (0.2 in the paper's Exp. 2).
    With `n_hidden=1`, `input_to_output=True` and `bias=False` this is the RTRL/BPTT net of the
    paper's task 2a: (p+1) + 1 weights into the hidden unit and p+2 into each of p+1 outputs.
    """

    def __init__(self, n_in: int, n_hidden: int, n_out: int, *, input_to_output: bool = True,
                 bias: bool = True, init_range: float = 0.2, algorithm: str = "bptt"):
        for name, v in (("n_in", n_in), ("n_hidden", n_hidden), ("n_out", n_out)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not init_range > 0:
            raise ValueError(f"init_range must be positive, got {init_range!r}")
        if algorithm not in ("bptt", "rtrl", "elman"):
            raise ValueError(f"algorithm must be 'bptt', 'rtrl' or 'elman', got {algorithm!r}")
        self.n_in, self.n_hidden, self.n_out = int(n_in), int(n_hidden), int(n_out)
        self.input_to_output, self.bias = bool(input_to_output), bool(bias)
        self.init_range, self.algorithm = float(init_range), algorithm
        I, H, K = self.n_in, self.n_hidden, self.n_out
        blocks = [("W_hx", (H, I)), ("W_hh", (H, H))] + ([("b_h", (H,))] if bias else [])
        blocks += [("W_yh", (K, H))] + ([("W_yx", (K, I))] if input_to_output else [])
        blocks += [("b_y", (K,))] if bias else []
        self.layout = Layout(blocks)
        self.name = f"{'Elman' if algorithm == 'elman' else algorithm.upper()} net ({I}-{H}-{K}, {self.n_params} weights)"

    @property
    def n_params(self) -> int:
        return self.layout.size

    def init(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Weights of `n` networks, uniform in [-init_range, init_range], on the host."""
        return rng.uniform(-self.init_range, self.init_range, size=(n, self.n_params))

    # ------------------------------------------------------------------ forward pass

    def _check(self, theta, x):
        if theta.ndim != 2 or theta.shape[1] != self.n_params:
            raise ValueError(f"theta must have shape (B, {self.n_params}), got {tuple(theta.shape)}")
        if x.ndim != 3 or x.shape[0] != theta.shape[0] or x.shape[2] != self.n_in:
            raise ValueError(f"inputs must have shape (B={theta.shape[0]}, T, {self.n_in}), got {tuple(x.shape)}")

    def forward(self, theta, x, lengths=None):
        """Hidden activations (B, T, H) and outputs (B, T, K) of each network on its sequence: every step,
        `lengths` notwithstanding."""
        self._check(theta, x)
        xp, p = backend.xp(), self.layout.views(theta)
        B, T, _ = x.shape
        hs, ys = xp.zeros((B, T, self.n_hidden)), xp.zeros((B, T, self.n_out))
        h = xp.zeros((B, self.n_hidden))
        for t in range(T):
            h = logistic(self._net_h(p, x[:, t], h))
            hs[:, t], ys[:, t] = h, logistic(self._net_y(p, x[:, t], h))
        return hs, ys

    def _net_h(self, p, x, h_prev):
        xp = backend.xp()
        net = xp.einsum("bij,bj->bi", p["W_hx"], x) + xp.einsum("bij,bj->bi", p["W_hh"], h_prev)
        return net + p["b_h"] if self.bias else net

    def _net_y(self, p, x, h):
        xp = backend.xp()
        net = xp.einsum("bkj,bj->bk", p["W_yh"], h)
        if self.input_to_output:
            net = net + xp.einsum("bkj,bj->bk", p["W_yx"], x)
        return net + p["b_y"] if self.bias else net

    def loss(self, theta, batch):
        """L = 1/2 sum over target steps of the squared output error, per network: shape (B,)."""
        _, y = self.forward(theta, backend.to_device(batch.x))
        return batch.loss(y)

    # ------------------------------------------------------------------ BPTT

    def bptt(self, theta, batch):
        """Exact gradient by back-propagation through time: (loss (B,), grad (B, P), outputs)."""
        xp = backend.xp()
        x, d, m = batch.on_device()
        h, y = self.forward(theta, x)
        p = self.layout.views(theta)
        grad = xp.zeros_like(theta)
        g = self.layout.views(grad)
        delta_y = m[:, :, None] * (y - d) * y * (1 - y)  # -theta_k(t) of eq. (19), up to the mask
        B, T, _ = x.shape
        h_prev = xp.concatenate([xp.zeros((B, 1, self.n_hidden)), h[:, :-1]], axis=1)
        g["W_yh"][...] = xp.einsum("btk,btj->bkj", delta_y, h)
        if self.input_to_output:
            g["W_yx"][...] = xp.einsum("btk,bti->bki", delta_y, x)
        if self.bias:
            g["b_y"][...] = delta_y.sum(axis=1)
        delta_h = xp.zeros((B, T, self.n_hidden))
        carry = xp.zeros((B, self.n_hidden))  # W_hh^T delta_h(t+1)
        for t in range(T - 1, -1, -1):
            dh = xp.einsum("bkj,bk->bj", p["W_yh"], delta_y[:, t]) + carry
            delta_h[:, t] = dh * h[:, t] * (1 - h[:, t])
            carry = xp.einsum("bij,bi->bj", p["W_hh"], delta_h[:, t])
        g["W_hx"][...] = xp.einsum("bti,btj->bij", delta_h, x)
        g["W_hh"][...] = xp.einsum("bti,btj->bij", delta_h, h_prev)
        if self.bias:
            g["b_h"][...] = delta_h.sum(axis=1)
        return batch.loss(y), grad, y

    # ------------------------------------------------------------------ RTRL

    def rtrl(self, theta, batch, lr: float | None = None):
        """Exact gradient computed forward in time by RTRL: (loss, grad, outputs); for "elman",
        the gradient truncated after one step.

        With a learning rate `lr`, learn online instead (Williams & Zipser): after every step
        the weights move by -lr times that step's gradient, and the sensitivities are carried
        on under the new weights. Returns (loss, new theta, outputs) then.
        """
        xp = backend.xp()
        x, d, m = batch.on_device()
        self._check(theta, x)
        theta = theta.copy()
        p = self.layout.views(theta)
        B, T, _ = x.shape
        I, H, K = self.n_in, self.n_hidden, self.n_out
        grad = xp.zeros_like(theta)
        g = self.layout.views(grad)
        eye = xp.eye(H)[None, :, :, None]
        # P[b, i, j, m] = d h_i(t) / d Wcat[j, m], with Wcat = [W_hx | W_hh | b_h] row by row
        P = xp.zeros((B, H, H, I + H + int(self.bias)))
        h = xp.zeros((B, H))
        ys, loss = xp.zeros((B, T, K)), xp.zeros(B)
        for t in range(T):
            z = [x[:, t], h] + ([xp.ones((B, 1))] if self.bias else [])
            z = xp.concatenate(z, axis=1)
            h_new = logistic(self._net_h(p, x[:, t], h))
            fp = (h_new * (1 - h_new))[:, :, None, None]
            direct = eye * z[:, None, None, :]  # h(t-1) held fixed: all "elman" keeps
            P = fp * (direct if self.algorithm == "elman" else direct + xp.einsum("bil,bljm->bijm", p["W_hh"], P))
            h = h_new
            y = logistic(self._net_y(p, x[:, t], h))
            ys[:, t] = y
            err = m[:, t, None] * (y - d[:, t])
            loss += 0.5 * (err ** 2).sum(axis=1)
            delta_y = err * y * (1 - y)
            step = self.layout.views(xp.zeros_like(theta)) if lr is not None else g
            step["W_yh"][...] += delta_y[:, :, None] * h[:, None, :]
            if self.input_to_output:
                step["W_yx"][...] += delta_y[:, :, None] * x[:, t, None, :]
            if self.bias:
                step["b_y"][...] += delta_y
            dh = xp.einsum("bkj,bk->bj", p["W_yh"], delta_y)
            G = xp.einsum("bi,bijm->bjm", dh, P)
            step["W_hx"][...] += G[:, :, :I]
            step["W_hh"][...] += G[:, :, I:I + H]
            if self.bias:
                step["b_h"][...] += G[:, :, I + H]
            if lr is not None:
                for name, block in step.items():
                    p[name][...] -= per_network(lr, block)
        return loss, (theta if lr is not None else grad), ys

    # ------------------------------------------------------------------ learning

    def train_step(self, theta, batch, lr):
        """One training sequence per network: (new theta, loss (B,), outputs); `lr` is one
        learning rate or one per network.

        BPTT changes the weights at the end of each sequence; RTRL and Elman's after every step.
        """
        if self.algorithm in ("rtrl", "elman"):
            loss, theta, y = self.rtrl(theta, batch, lr=lr)
            return theta, loss, y
        loss, grad, y = self.bptt(theta, batch)
        return theta - per_network(lr, grad), loss, y

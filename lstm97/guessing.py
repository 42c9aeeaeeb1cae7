"""Random weight guessing (RG): draw all weights of a small recurrent net at random until one
solves the task — the baseline the paper says beats every published method on Bengio et al.'s
2-sequence problem (Sec. 5.3, Task 3a). The 1997 paper gives no guessing numbers; the protocol
here is the NIPS'96 one (Hochreiter & Schmidhuber 1996, spec Sec. 5.8):

* weights uniform in [-limit, limit], limit = 100;
* logistic units; architecture "A1": fully connected — each of the `hidden` hidden units and the
  output unit sees the input, a bias and every non-input unit (itself included); "A2": each
  hidden unit sees only the input, the bias, itself and the output, the output sees everything;
* activations are reset to 0 at each sequence start; the output at a sequence's last step is
  the answer;
* the order in which units update within a step the NIPS'96 paper does not say. `order =
  "synchronous"` (the default): every unit updates at once from the current input and the
  previous step's activations. `"layered"`: the LSTM paper's own order (its Sec. 5: input,
  hidden units, output): the hidden units first, from the current input and the previous step's
  activations, then the output, which sees the hidden units' new activations and its own previous
  one. Parity needs the layered order: its new value is the XOR of the current input and the
  parity so far, which no single threshold unit computes from those two alone; a hidden unit that
  has already seen the current input supplies the missing AND (chapter 13). Synchronously, an A1
  net with one hidden unit cannot hold the parity of even two bits.

One *search* draws a test set, then guesses nets one after another until a net classifies every
test sequence right (by the task's criterion); its count is the number of nets drawn, the
successful one included. Nets are drawn and tested `batch` at a time, but the count is exactly
that of guessing one by one from the same random stream.
"""
from __future__ import annotations

import numpy as np

from .tasks.base import Task, check_int

ARCHITECTURES = ("A1", "A2")
ORDERS = ("synchronous", "layered")


def n_weights(hidden: int) -> int:
    """Weights of an A1 net: (hidden + 1) units × (input, bias, hidden + 1 recurrent sources)."""
    return (hidden + 1) * (hidden + 3)


def draw(rng: np.random.Generator, n: int, hidden: int, arch: str = "A1", limit: float = 100.0) -> np.ndarray:
    """`n` random nets, (n, hidden + 1, hidden + 3): row u is unit u's incoming weights (the
    output is the last unit), columns input, bias, then units 0..hidden. A2's missing
    connections are zero."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"arch must be one of {ARCHITECTURES}, got {arch!r}")
    check_int("hidden (number of hidden units)", hidden, 0)
    W = rng.uniform(-limit, limit, size=(n, hidden + 1, hidden + 3))
    if arch == "A2":
        keep = np.eye(hidden + 1, dtype=bool)
        keep[:, hidden] = keep[hidden, :] = True  # every unit sees the output; the output sees all
        W[:, :, 2:] *= keep
    return W


def _logistic(net):
    return 0.5 * (1.0 + np.tanh(0.5 * net))  # without overflow for |net| ~ 100s


def outputs(W: np.ndarray, x: np.ndarray, lengths: np.ndarray, order: str = "synchronous") -> np.ndarray:
    """Output of each net at the end of each sequence, (G, S), for inputs `x` (S, T) padded past
    `lengths`, the units updating in `order` (see above)."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    G, U, _ = W.shape
    S = len(lengths)
    a = np.zeros((G, S, U))
    out = np.empty((G, S))
    rec = W[:, :, 2:].transpose(0, 2, 1)  # (G, source, unit)
    for t in range(int(lengths.max())):
        net = x[None, :, t, None] * W[:, None, :, 0] + W[:, None, :, 1] + a @ rec
        if order == "layered":  # the output sees the hidden units' new activations, not their old
            net[:, :, -1] += np.einsum("gsh,gh->gs", _logistic(net[:, :, :-1]) - a[:, :, :-1], rec[:, :-1, -1])
        a = _logistic(net)
        ends = lengths - 1 == t
        out[:, ends] = a[:, ends, -1]
    return out


def all_correct(W, x, lengths, target, threshold, first: int = 32, order: str = "synchronous") -> np.ndarray:
    """(G,) bool: the nets whose end output is within `threshold` of `target` on every sequence.
    The first `first` sequences weed out most nets before the rest are run."""
    ok = (np.abs(outputs(W, x[:first], lengths[:first], order) - target[:first]) < threshold).all(axis=1)
    if len(lengths) > first and ok.any():
        rest = np.abs(outputs(W[ok], x[first:], lengths[first:], order) - target[first:]) < threshold
        ok[np.flatnonzero(ok)] = rest.all(axis=1)
    return ok


def search(rng: np.random.Generator, x, lengths, target, threshold: float, *, hidden: int = 1,
           arch: str = "A1", order: str = "synchronous", limit: float = 100.0, batch: int = 1000,
           max_guesses: int = 1_000_000):
    """Guess nets until one gets every sequence right: (guesses, weights), or (None, None) after
    `max_guesses` failures."""
    tried = 0
    while tried < max_guesses:
        W = draw(rng, min(batch, max_guesses - tried), hidden, arch, limit)
        ok = np.flatnonzero(all_correct(W, x, lengths, target, threshold, order=order))
        if len(ok):
            return tried + int(ok[0]) + 1, W[ok[0]]
        tried += len(W)
    return None, None


def end_values(task: Task, batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inputs (S, T), lengths, what the end output is judged against) of a one-input, one-output
    task's batch: the noise-free targets of 3c."""
    ref = task.reference(batch)[:, :, 0]
    return batch.values[:, :, 0], batch.lengths, ref[np.arange(len(batch)), batch.end]


def trials(task: Task, trials: int, seed: int = 0, *, test_size: int = 256, extra_test: int = 2560,
           order: str = "synchronous", **kw) -> dict:
    """`trials` independent searches on `task`, each against its own `test_size` test set (ST1:
    none wrong); each successful net then meets `extra_test` fresh sequences. Returns the guesses,
    fraction wrong and weights of each search (None where it failed); trial k's numbers come
    from (seed, k) alone."""
    counts, wrong, nets = [], [], []
    for k in range(trials):
        search_rng, test_rng, extra_rng = (np.random.default_rng(s) for s in
                                           np.random.SeedSequence(seed, spawn_key=(k,)).spawn(3))
        x, lengths, target = end_values(task, task.sample(test_rng, test_size))
        n, W = search(search_rng, x, lengths, target, task.threshold, order=order, **kw)
        counts.append(n)
        nets.append(W)
        if W is not None:
            x, lengths, target = end_values(task, task.sample(extra_rng, extra_test))
            wrong.append(float((np.abs(outputs(W[None], x, lengths, order)[0] - target) >= task.threshold).mean()))
        else:
            wrong.append(None)
    return {"guesses": counts, "fraction_wrong": wrong, "weights": nets}

"""Experiment 1: the embedded Reber grammar (paper Sec. 5.1, Figs. 3–4).

A Reber string is a random walk through a small automaton, each branch taken with probability
0.5. The embedded grammar wraps one in ``B T … T E`` or ``B P … P E``: to predict the symbol
before last, a network must remember the second symbol across the whole inner string.
The task is next-symbol prediction at every step, with 7 local input and output units.
"""
from __future__ import annotations

import dataclasses

import numpy as np
from numba import njit

from .. import backend
from .base import Batch, Task, check_int, check_n, check_rng, one_hot, pad, step_mask

SYMBOLS = "BTPSXVE"
_SETS_KEY = 19970501  # spawn key of the set pairs' generators: one no trial index (streams.trial_rngs) reaches
_INDEX = {s: i for i, s in enumerate(SYMBOLS)}

# Reber automaton (Fig. 3): node -> {symbol: next node}; node 7 is the end.
REBER = {
    0: {"B": 1},
    1: {"T": 2, "P": 3},
    2: {"S": 2, "X": 4},
    3: {"T": 3, "V": 5},
    4: {"X": 3, "S": 6},
    5: {"P": 4, "V": 6},
    6: {"E": 7},
    7: {},
}


def _embedded() -> dict:
    """The embedded grammar (Fig. 4) as one automaton: two copies of REBER, one per branch."""
    g = {"start": {"B": "branch"}, "branch": {"T": ("T", 0), "P": ("P", 0)}, "last": {"E": "end"}, "end": {}}
    for branch in "TP":
        for node, edges in REBER.items():
            g[(branch, node)] = {s: (branch, nxt) for s, nxt in edges.items()}
        g[(branch, 7)] = {branch: "last"}  # the inner string is over: repeat the branch symbol
    return g


EMBEDDED = _embedded()


def _walk(automaton: dict, start, rng: np.random.Generator) -> str:
    out, state = [], start
    while automaton[state]:
        edges = automaton[state]
        symbol = list(edges)[rng.integers(len(edges))] if len(edges) > 1 else next(iter(edges))
        out.append(symbol)
        state = edges[symbol]
    return "".join(out)


def reber_string(rng: np.random.Generator) -> str:
    """One string of the (plain) Reber grammar, e.g. ``BTSSXXTVVE``."""
    return _walk(REBER, 0, check_rng(rng))


def embedded_reber_string(rng: np.random.Generator) -> str:
    """One string of the embedded Reber grammar, e.g. ``BTBPVVETE``."""
    return _walk(EMBEDDED, "start", check_rng(rng))


def _run(automaton: dict, start, string: str) -> list | None:
    """States visited after each symbol, or None when the automaton rejects `string`."""
    states, state = [], start
    for symbol in string:
        if symbol not in automaton[state]:
            return None
        state = automaton[state][symbol]
        states.append(state)
    return states


def accepts(string: str, embedded: bool = True) -> bool:
    """Whether `string` is a complete string of the (embedded) Reber grammar."""
    automaton, start, final = (EMBEDDED, "start", "end") if embedded else (REBER, 0, 7)
    states = _run(automaton, start, string)
    return states is not None and len(states) > 0 and states[-1] == final


def legal_successors(string: str) -> list[str]:
    """For each proper prefix string[:t+1], the symbols the embedded grammar allows next."""
    states = _run(EMBEDDED, "start", string)
    if states is None:
        raise ValueError(f"{string!r} is not a prefix of an embedded Reber string")
    return ["".join(EMBEDDED[s]) for s in states[:-1]]


class EmbeddedReber(Task):
    """Experiment 1. Predict the next symbol at every step; a string is correct when, at every
    step, the output units of the possible next symbols are the most active ones (Sec. 5.1).

    `targets`: ``"next"`` trains on the one-hot actual next symbol, ``"legal"`` on the multi-hot
    set of legal successors. The paper does not say which (spec decision 6); both satisfy its
    criterion, which looks only at which units are most active.

    `sets`: None draws every sequence afresh. With `sets` = n, each trial of a run gets the
    paper's protocol (`for_trial`): a fixed pair of a training set and a test set (`make_sets`),
    set pair k mod n for trial k, so the paper's 30 trials are 3 set pairs × 10 initialisations
    and a reduced run with few trials still meets every set pair.
    """

    name = "1"
    title = "embedded Reber grammar"
    n_in = n_out = len(SYMBOLS)
    scored = "all"

    def __init__(self, targets: str = "next", sets: int | None = None):
        if targets not in ("next", "legal"):
            raise ValueError(f"targets must be 'next' or 'legal', got {targets!r}")
        self.targets = targets
        self.sets = None if sets is None else check_int("sets", sets, 1)
        self._pairs = {}

    @property
    def min_lag(self) -> int:
        # the branch symbol is input at step 2; the shortest strings ask for it back at step 7
        return 5

    def lags(self, batch: Batch) -> np.ndarray:
        return batch.lengths - 3  # branch read at step 1; asked for at step len(string) - 3 (0-based)

    def strings(self, rng: np.random.Generator, n: int) -> list[str]:
        """`n` independent random strings of the embedded grammar."""
        check_rng(rng)
        return [embedded_reber_string(rng) for _ in range(check_n(n))]

    def make_sets(self, rng: np.random.Generator, n_train: int = 256, n_test: int = 256):
        """Training and test strings as in the paper (following Fahlman): `n_train` random
        strings, and `n_test` random strings that do not occur in the training set."""
        train = self.strings(rng, check_int("n_train", n_train, 1))
        seen, test = set(train), []
        while len(test) < check_int("n_test", n_test, 1):
            s = embedded_reber_string(rng)
            if s not in seen:
                test.append(s)
        return train, test

    def encode(self, strings: list[str]) -> Batch:
        """The batch for given strings: input symbol t, target symbol t+1 (or its legal set)."""
        for s in strings:
            if not accepts(s):
                raise ValueError(f"{s!r} is not an embedded Reber string")
        codes = [np.array([_INDEX[c] for c in s]) for s in strings]
        lengths = np.array([len(c) - 1 for c in codes])
        symbols = pad([c[:-1] for c in codes], -1)
        if self.targets == "next":
            y = one_hot(pad([c[1:] for c in codes], -1), self.n_out)
        else:
            y = np.zeros(symbols.shape + (self.n_out,))
        legal = np.zeros(symbols.shape + (self.n_out,), dtype=bool)
        for i, s in enumerate(strings):
            for t, allowed in enumerate(legal_successors(s)):
                legal[i, t, [_INDEX[c] for c in allowed]] = True
        if self.targets == "legal":
            y = legal.astype(float)
        return Batch(y=y, mask=step_mask(lengths), lengths=lengths, n_in=self.n_in, symbols=symbols,
                     reference=legal.astype(float), info={"strings": list(strings)})

    def sample(self, rng: np.random.Generator, n: int) -> Batch:
        return self.encode(self.strings(rng, n))

    def set_pair(self, seed: int, pair: int) -> tuple[list[str], list[str]]:
        """Training and test strings of set pair `pair` of a run with `seed`: from (seed, pair)
        alone, so a trial's data do not depend on the other trials."""
        key = np.random.SeedSequence(seed, spawn_key=(_SETS_KEY, check_int("pair", pair, 0)))
        return self.make_sets(np.random.default_rng(key))

    def for_trial(self, seed: int, trial: int) -> "EmbeddedReber":
        if self.sets is None:
            return self
        key = (seed, trial % self.sets)  # trials that share a set pair share its (read-only) task
        if key not in self._pairs:
            self._pairs[key] = ReberSets(*self.set_pair(*key), targets=self.targets)
        return self._pairs[key]

    def step_correct(self, outputs, batch: Batch) -> np.ndarray:
        """(B, T): every legal next symbol's unit more active than every other unit (True past
        each string's end)."""
        out = backend.to_host(outputs)
        if out.shape != batch.y.shape:
            raise ValueError(f"outputs have shape {out.shape}, expected {batch.y.shape} (B, T, n_out)")
        legal = batch.reference > 0.5
        lowest_legal = np.where(legal, out, np.inf).min(axis=2)
        highest_other = np.where(legal, -np.inf, out).max(axis=2)
        return (lowest_legal > highest_other) | ~step_mask(batch.lengths)

    def correct(self, outputs, batch: Batch) -> np.ndarray:
        """A string is right when all its steps are (the paper's criterion): `step_correct`'s
        rows all True, compiled (an evaluation of Exp. 1 judges 30 × 512 strings)."""
        out = backend.to_host(outputs)
        if out.shape != batch.y.shape:
            raise ValueError(f"outputs have shape {out.shape}, expected {batch.y.shape} (B, T, n_out)")
        return _strings_correct(np.ascontiguousarray(out, dtype=float), batch.reference, batch.lengths)

    @staticmethod
    def branch_step(batch: Batch) -> np.ndarray:
        """Per string, the step that predicts the symbol before last (T or P, as the second)."""
        return batch.lengths - 2


@njit(cache=True)
def _strings_correct(out, reference, lengths):
    """Per string, every step's lowest legal output above its highest other one (NaN: wrong)."""
    ok = np.ones(out.shape[0], dtype=np.bool_)
    for b in range(out.shape[0]):
        for t in range(lengths[b]):
            lowest, highest = np.inf, -np.inf
            for i in range(out.shape[2]):
                v = out[b, t, i]
                if v != v:
                    lowest = -np.inf
                elif reference[b, t, i] > 0.5:
                    lowest = min(lowest, v)
                else:
                    highest = max(highest, v)
            if not lowest > highest:
                ok[b] = False
                break
    return ok


class ReberSets(EmbeddedReber):
    """One trial of Exp. 1 as the paper ran it: training exemplars drawn at random (with
    replacement) from a fixed training set; the trial is judged on the training set and the test
    set together, since success means every symbol of every string of both predicted correctly."""

    def __init__(self, train: list[str], test: list[str], targets: str = "next"):
        super().__init__(targets)
        if not train or not test:
            raise ValueError("a training set and a test set of at least one string each are needed")
        self.train, self.test = list(train), list(test)
        self._train, self._test = self.encode(self.train), None

    def sample(self, rng: np.random.Generator, n: int) -> Batch:
        return self._train.take(check_rng(rng).integers(len(self.train), size=check_n(n)))

    def test_set(self, rng: np.random.Generator, n: int) -> Batch:
        """The training strings, then the test strings: `n` must be their number."""
        if n != len(self.train) + len(self.test):
            raise ValueError(f"this trial is judged on its {len(self.train)} training and {len(self.test)} "
                             f"test strings together: test_size must be {len(self.train) + len(self.test)}, got {n}")
        if self._test is None:
            self._test = self.encode(self.train + self.test)
        return self._test

    def __repr__(self) -> str:
        return f"ReberSets({len(self.train)} training, {len(self.test)} test strings, targets={self.targets!r})"


def _window(rows: list, start: int, stop: int) -> Batch:
    """Steps start .. stop-1 of the streams `rows` ((batch, index) pairs, each longer than `start`)
    as one Batch, padded to the longest."""
    lengths = np.array([min(int(b.lengths[i]), stop) - start for b, i in rows])
    end = start + int(lengths.max())

    def cut(name, fill):
        return pad([getattr(b, name)[i, start:end] for b, i in rows], fill)

    return Batch(y=cut("y", 0.0), mask=cut("mask", False), lengths=lengths, n_in=rows[0][0].n_in,
                 symbols=cut("symbols", -1), reference=cut("reference", 0.0))


class ContinualReber(EmbeddedReber):
    """The continual embedded Reber grammar of Gers, Schmidhuber & Cummins (2000), chapter 14:
    embedded Reber strings one after another with no marked end and no reset in between, so a
    cell's state is never cleared from outside. One sequence here is a stream of `strings`
    consecutive strings; after each string's final E the next symbol is the B of the next one
    (its only legal successor). `first_error` counts the correct predictions before the first
    wrong one — Gers et al.'s measure, which calls 10^6 of them in a row a perfect solution.
    A test stream holds `test_strings` strings (default: as many as a training stream); a string
    has 12.0 symbols on average, so 83,334 of them make about 10^6 predictions.
    """

    name = "cerg"
    title = "continual embedded Reber grammar"
    own_test = True  # `judge`: a stream is tested up to its first wrong prediction

    def __init__(self, strings: int = 50, targets: str = "next", test_strings: int | None = None):
        super().__init__(targets)
        self.n_strings = check_int("strings", strings, 1)
        self.test_strings = self.n_strings if test_strings is None else check_int("test_strings", test_strings, 1)

    def streams(self, rng: np.random.Generator, n: int, strings: int | None = None) -> list[list[str]]:
        """`n` streams, each a list of `strings` (default `self.n_strings`) random embedded Reber strings."""
        check_rng(rng)
        strings = self.n_strings if strings is None else check_int("strings", strings, 1)
        return [[embedded_reber_string(rng) for _ in range(strings)] for _ in range(check_n(n))]

    def encode(self, streams: list[list[str]]) -> Batch:
        """Input symbol t of the concatenated stream, target symbol t+1 (or its legal set): the
        embedded grammar within each string, and B after each string's E."""
        codes, legal_rows = [], []
        for stream in streams:
            if not stream or not all(accepts(s) for s in stream):
                raise ValueError(f"a stream must be a non-empty list of embedded Reber strings, got {stream!r}")
            text = "".join(stream)
            codes.append(np.array([_INDEX[c] for c in text]))
            legal = [a for s in stream for a in legal_successors(s) + ["B"]][:-1]  # nothing follows the last E
            legal_rows.append(legal)
        lengths = np.array([len(c) - 1 for c in codes])
        symbols = pad([c[:-1] for c in codes], -1)
        kinds = sorted({a for legal in legal_rows for a in legal})   # the distinct sets of legal successors
        rows = np.zeros((len(kinds), self.n_out))
        for k, allowed in enumerate(kinds):
            rows[k, [_INDEX[c] for c in allowed]] = 1.0
        kind = {a: k for k, a in enumerate(kinds)}
        ref = np.zeros(symbols.shape + (self.n_out,))
        for i, legal in enumerate(legal_rows):
            ref[i, :len(legal)] = rows[[kind[a] for a in legal]]
        y = one_hot(pad([c[1:] for c in codes], -1), self.n_out) if self.targets == "next" else ref
        return Batch(y=y, mask=step_mask(lengths), lengths=lengths, n_in=self.n_in, symbols=symbols,
                     reference=ref, info={"streams": [list(s) for s in streams]})

    def sample(self, rng: np.random.Generator, n: int) -> Batch:
        return self.encode(self.streams(rng, n))

    def test_set(self, rng: np.random.Generator, n: int) -> Batch:
        """`n` test streams of `test_strings` strings each, held in the smallest exact types: a
        run keeps one per net, and 100 float streams of 10^6 steps would take 12 GB, these 1.6 GB
        (targets are 0/1; `_window` hands each window on as floats)."""
        b = self.encode(self.streams(rng, n, self.test_strings))
        return dataclasses.replace(b, y=b.y.astype(bool), reference=b.reference.astype(bool),
                                   symbols=b.symbols.astype(np.int8))

    def lags(self, batch: Batch) -> np.ndarray:
        """Every string of a stream asks for its branch symbol back; this is the last string's
        lag (read at its step 1, asked for before its last two symbols)."""
        return np.array([len(s[-1]) - 4 for s in batch.info["streams"]])

    def first_error(self, outputs, batch: Batch) -> np.ndarray:
        """(B,): per stream, the number of steps predicted correctly before the first wrong one
        (the whole stream's length where none is wrong)."""
        ok = self.step_correct(outputs, batch)
        wrong = ~ok
        return np.where(wrong.any(axis=1), wrong.argmax(axis=1), batch.lengths)

    def judge(self, learner, theta, tests: list[Batch], steps: int = 1000, counts: bool = False):
        """Each network's test on its own test streams (`evaluation.evaluate` calls this): every stream
        of every network side by side, `steps` time steps per call of `learner.outputs`, each call
        going on from the state the previous one left; a stream leaves the batch after the call
        that holds its first wrong step (by `step_correct`), so one wrong at step k costs at most
        k + `steps` steps, and only a stream that is right throughout runs to its end.

        Returns (B,) arrays, as `evaluation.evaluate`: the loss (1/2 the squared error against the
        training targets, summed over the steps run), how many of the network's streams have a
        wrong step (with one stream: 1 if any, 0 for a perfect net), and the mean absolute error
        against the legal successors (over the steps run and the output units); the steps run are
        a stream's steps up to and including its first wrong one (all of them if none is), and
        loss and error are averaged over the network's streams. With `counts`, also (B, S): the
        correct predictions before each stream's first error (as `first_error`)."""
        if not learner.carries_state:
            raise TypeError(f"{learner.name} cannot go on from the state of an earlier call; the continual test "
                            f"needs a learner with outputs(theta, x, state), e.g. lstm97.lstm.LSTM")
        B, steps = theta.shape[0], check_int("steps", steps, 1)
        if len(tests) != B or len({len(t) for t in tests}) != 1:
            raise ValueError(f"one test set per network ({B}), all of one size, is needed; got sizes "
                             f"{[len(t) for t in tests]}")
        S = len(tests[0])
        rows = [(test, i) for test in tests for i in range(S)]   # network b's streams: rows b*S ... b*S + S-1
        owner = np.repeat(np.arange(B), S)
        lengths = np.array([test.lengths[i] for test, i in rows])
        first, loss, abs_sum, ran_steps = lengths.copy(), *np.zeros((3, len(rows)))
        active, state, start = np.arange(len(rows)), None, 0
        while len(active):
            window = _window([rows[r] for r in active], start, start + steps)
            y, state = learner.outputs(theta[backend.to_device(owner[active])], backend.to_device(window.x), state)
            y = backend.to_host(y)
            bad = ~self.step_correct(y, window)
            erred = bad.any(axis=1)
            at = np.where(erred, bad.argmax(axis=1), bad.shape[1])      # the first wrong step, if any
            ran = window.mask & (np.arange(bad.shape[1]) <= at[:, None])
            first[active[erred]] = start + at[erred]
            loss[active] += 0.5 * (ran[:, :, None] * (y - window.y) ** 2).sum(axis=(1, 2))
            abs_sum[active] += (ran[:, :, None] * np.abs(y - window.reference)).sum(axis=(1, 2))
            ran_steps[active] += ran.sum(axis=1)
            start += steps
            keep = np.flatnonzero(~erred & (lengths[active] > start))
            active, state = active[keep], tuple(a[backend.to_device(keep)] for a in state)
        result = (loss.reshape(B, S).mean(axis=1), (first < lengths).reshape(B, S).sum(axis=1),
                  (abs_sum / (ran_steps * self.n_out)).reshape(B, S).mean(axis=1))
        return result + ((first.reshape(B, S),) if counts else ())

    def __repr__(self) -> str:
        return f"ContinualReber(strings={self.n_strings}, targets={self.targets!r}, test_strings={self.test_strings})"

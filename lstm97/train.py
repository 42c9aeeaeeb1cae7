"""Online training of many independent networks side by side, and the record of a run.

Each trial is one network with its own initial weights, its own stream of training sequences
and its own test set; all trials advance together as one batched computation, one sequence
per network per iteration. Trial k's streams are derived from (seed, k) alone, so its result
does not depend on how many other trials run beside it.

When a trial counts as solved is the stopping rule (chapter 6), one of the paper's:

* `TestSet()` — ST1: none of the trial's `test_size` test sequences is wrong by the task's
  criterion (checked every `eval_every` sequences); `TestSet(max_error=β)` — ST2: ST1, and the
  mean absolute error on the test set below β (Exp. 3).
* `Recent(β)` — ST3(β): the 2000 most recent training sequences were all correct and their
  average error was below β (Exps. 4–6). "Average training error" is not defined further in the
  paper; we take the mean, over those sequences, of the squared output error at the target steps.

By default a solved trial goes on training until every trial is solved (the book's chapters watch
what a solved net does next). With `freeze_solved`, as in the paper, where a trial's training
stops at its success, a trial solved at an evaluation stops there: its weights stand still, it
draws no more sequences, and the batch shrinks to the trials still learning. Trials are
independent, so the others' numbers do not change; only the cost does (a run of 20 trials with one
left costs a twentieth per sequence).
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np
from tqdm.auto import tqdm

from . import backend, scale
from .params import per_network
from .tasks.base import Batch, Task, stack

CHUNK = 64  # sequences drawn per call to the task generator, per trial


def trial_rngs(seed: int, trial: int) -> tuple[np.random.Generator, ...]:
    """(weights, training data, test data) generators of one trial, from (seed, trial) alone."""
    children = np.random.SeedSequence(seed, spawn_key=(trial,)).spawn(3)
    return tuple(np.random.default_rng(c) for c in children)


def initial_weights(learner, seed: int, trials: int) -> np.ndarray:
    """The weights each trial of a run starts from, (trials, P) on the host: from (seed, k) alone."""
    return np.concatenate([learner.init(trial_rngs(seed, k)[0], 1) for k in range(trials)])


class Stream:
    """An endless stream of training sequences from one generator, drawn `CHUNK` at a time into
    `buffer`; `advance()` says which of them comes next."""

    def __init__(self, task: Task, rng: np.random.Generator):
        self.task, self.rng, self.buffer, self.i = task, rng, None, CHUNK
        self.chunk_state = None  # the generator's state before drawing the current chunk

    def advance(self) -> int:
        """Index in `buffer` of the next sequence, drawing a new chunk when the last is used up."""
        if self.i == CHUNK:
            self.chunk_state = self.rng.bit_generator.state
            self.buffer, self.i = self.task.sample(self.rng, CHUNK), 0
        self.i += 1
        return self.i - 1

    def state(self) -> dict:
        return {"chunk_state": self.chunk_state, "i": self.i}

    def restore(self, state: dict):
        """Continue exactly where a stream with this `state()` was."""
        if state["chunk_state"] is not None:
            self.rng.bit_generator.state = state["chunk_state"]
            self.chunk_state = state["chunk_state"]
            self.buffer = self.task.sample(self.rng, CHUNK)
        self.i = state["i"]


class Lockstep:
    """The next sequence of each of several streams, stacked into one batch.

    The trials still training draw in step, so their chunks are stacked once per chunk and every
    iteration takes one row of each. A Batch per sequence, stacked, cost more than training on it
    when sequences are short (2c-1, 20 trials: 1.9 of the 5.0 ms an iteration took).
    """

    def __init__(self, streams: list[Stream]):
        self.streams, self.buffers, self.chunk, self.starts = streams, (), None, None

    def next(self, active) -> Batch:
        rows = [self.streams[k].advance() for k in active]
        buffers = tuple(self.streams[k].buffer for k in active)
        if len(buffers) != len(self.buffers) or any(a is not b for a, b in zip(buffers, self.buffers)):
            self.buffers, self.chunk = buffers, stack(list(buffers))
            self.starts = np.cumsum([0] + [len(b) for b in buffers[:-1]])
        return self.chunk.take(self.starts + np.array(rows))


class TestSet:
    """ST1 (and with `max_error`, ST2), judged on the test set at every evaluation: at most
    `max_wrong` test sequences wrong (0 in the paper, but 5 of 256 in task 3b), and, with
    `max_error`, a mean absolute test error below it."""

    watches_training = False  # `on_sequence` decides nothing: `train` skips it

    def __init__(self, max_error: float | None = None, max_wrong: int = 0):
        if max_error is not None and not max_error > 0:
            raise ValueError(f"max_error must be positive, got {max_error!r}")
        if isinstance(max_wrong, bool) or not isinstance(max_wrong, int) or max_wrong < 0:
            raise ValueError(f"max_wrong must be a non-negative integer, got {max_wrong!r}")
        self.max_error, self.max_wrong = max_error, max_wrong

    def start(self, trials: int):
        pass

    def on_sequence(self, correct, error):
        return None

    def on_test(self, wrong, abs_error):
        solved = wrong <= self.max_wrong
        return solved if self.max_error is None else solved & (abs_error < self.max_error)

    def state(self) -> dict:
        return {}

    def restore(self, state: dict):
        pass

    def __repr__(self) -> str:
        name = "ST1" if self.max_error is None else f"ST2({self.max_error:g})"
        return name + (f", at most {self.max_wrong} wrong" if self.max_wrong else "")


class Recent:
    """ST3(beta): the `window` most recent training sequences correct (at most `max_wrong` of
    them wrong: Exp. 5), and their mean error below `beta` (no error bound if None)."""

    watches_training = True

    def __init__(self, beta: float | None, window: int = 2000, max_wrong: int = 0):
        if beta is not None and not beta > 0:
            raise ValueError(f"Recent needs beta > 0 (or None), got {beta!r}")
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(f"Recent needs a positive integer window, got {window!r}")
        if isinstance(max_wrong, bool) or not isinstance(max_wrong, int) or not 0 <= max_wrong < window:
            raise ValueError(f"max_wrong must be an integer in 0..window-1, got {max_wrong!r}")
        self.beta, self.window, self.max_wrong = beta, window, max_wrong

    def start(self, trials: int):
        self.correct = np.zeros((trials, self.window), dtype=bool)
        self.error = np.zeros((trials, self.window))
        self.n = 0
        self.wrong = np.zeros(trials, dtype=int)  # wrong sequences in the window, kept up to date

    def on_sequence(self, correct, error):
        i = self.n % self.window
        self.wrong += ~np.asarray(correct, dtype=bool)
        if self.n >= self.window:
            self.wrong -= ~self.correct[:, i]  # the oldest sequence leaves the window
        self.correct[:, i], self.error[:, i] = correct, error
        self.n += 1
        if self.n < self.window:
            return np.zeros(len(correct), dtype=bool)
        solved = self.wrong <= self.max_wrong
        if self.beta is None or not solved.any():
            return solved
        return solved & (self.error.mean(axis=1) < self.beta)

    def on_test(self, wrong, abs_error):
        return None

    def state(self) -> dict:
        return {"correct": self.correct, "error": self.error, "n": np.array(self.n)}

    def restore(self, state: dict):
        self.correct, self.error, self.n = state["correct"].astype(bool), state["error"], int(state["n"])
        self.wrong = np.minimum(self.n, self.window) - self.correct[:, :self.n].sum(axis=1)

    def __repr__(self) -> str:
        name = "ST3" + (f"({self.beta:g})" if self.beta is not None else "")
        extra = [f"window {self.window}"] if self.window != 2000 else []
        extra += [f"fewer than {self.max_wrong + 1} wrong"] if self.max_wrong else []
        return ", ".join([name] + extra)


class Minibatch:
    """Minibatch gradient descent as gradient accumulation (Part IV): the gradients of `size`
    consecutive training sequences, all taken at the same weights, are averaged, and the weights
    change once, by `lr` times that mean. `train` still hands each network one sequence per
    iteration, so budgets and stopping rules count sequences as before; between updates the
    weights stand still. With size 1 this is the wrapped learner's per-sequence training.

    The wrapped learner provides `gradient(theta, batch) -> (loss, grad, outputs)` and changes
    its weights at sequence ends (`LSTM(config, update="sequence")`, either gradient)."""

    def __init__(self, learner, size: int):
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"the minibatch size must be a positive integer, got {size!r}")
        if not hasattr(learner, "gradient") or getattr(learner, "update", "sequence") != "sequence":
            raise ValueError(f"{learner.name} cannot average gradients over sequences: a minibatch needs a learner "
                             f"with a gradient method that updates at sequence ends, e.g. "
                             f"lstm.LSTM(config, update='sequence')")
        self.learner, self.size = learner, int(size)
        self.name = f"{learner.name}, minibatches of {self.size}"
        self.sum, self.n = None, 0  # the gradients accumulated since the last update, and how many

    @property
    def n_params(self) -> int:
        return self.learner.n_params

    def init(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """The wrapped learner's initial weights; a new run starts with nothing accumulated."""
        self.sum, self.n = None, 0
        return self.learner.init(rng, n)

    def forward(self, theta, x):
        return self.learner.forward(theta, x)

    def train_step(self, theta, batch, lr):
        loss, grad, y = self.learner.gradient(theta, batch)
        self.sum = grad if self.n == 0 else self.sum + grad
        self.n += 1
        if self.n == self.size:
            theta, self.sum, self.n = theta - per_network(lr, self.sum / self.size), None, 0
        return theta, loss, y

    def select(self, keep):
        """Keep only the networks `keep` (indices into the current batch): `train` drops solved ones."""
        if self.sum is not None:
            self.sum = self.sum[keep]
        if hasattr(self.learner, "select"):
            self.learner.select(keep)

    def state(self) -> dict:
        return {"sum": np.zeros(0) if self.sum is None else backend.to_host(self.sum), "n": np.array(self.n)}

    def restore(self, state: dict):
        self.n = int(state["n"])
        self.sum = backend.to_device(state["sum"]) if self.n else None


@dataclass
class Run:
    """What a training run did, with its provenance; every field is plain data (JSON-able)."""

    learner: str
    task: str
    lr: float | list   # one learning rate, or one per trial (a sweep)
    trials: int
    seed: int
    max_sequences: int
    eval_every: int
    test_size: int
    stop: str
    scale: str
    backend: str
    sequences: list = field(default_factory=list)      # sequences seen at each evaluation
    test_loss: list = field(default_factory=list)      # [evaluation][trial] mean loss on the test set
    test_correct: list = field(default_factory=list)   # [evaluation][trial] fraction of test sequences correct
    train_error: list = field(default_factory=list)    # [evaluation][trial] mean squared error of the training
                                                       # sequences since the previous evaluation (None: frozen)
    solved_after: list = field(default_factory=list)   # [trial] sequences until solved, None if never
    wall_time: float = 0.0
    finished: bool = True  # False when stopped by `time_limit`: go on from the checkpoint
    freeze_solved: bool = False  # a solved trial stopped training at the evaluation that solved it
    trained: int = 0  # training sequences summed over the trials: trials × sequences unless frozen
    weights: np.ndarray | None = field(default=None, repr=False)  # final weights (trials, P), host
    # weights of each trial at the evaluation that solved it (trials, P), NaN rows if never: the
    # net the paper tests further (Exp. 3's extra 2560 sequences); training goes on after that
    solved_weights: np.ndarray | None = field(default=None, repr=False)

    @property
    def solved(self) -> np.ndarray:
        return np.array([s is not None for s in self.solved_after])

    @property
    def success_rate(self) -> float:
        return float(self.solved.mean())

    def as_dict(self) -> dict:
        """Everything but the weights, as plain data."""
        d = asdict(self)
        del d["weights"], d["solved_weights"]
        return d


def sequence_errors(y, batch: Batch, target=None):
    """Per sequence: mean squared and mean absolute output error over the target steps, (B,) each,
    against `target` (the training targets by default)."""
    xp = backend.xp()
    d = backend.to_device(batch.y if target is None else target)
    m = backend.to_device(batch.mask.astype(float))
    diff = (y - d) * m[:, :, None]
    n = m.sum(axis=1) * y.shape[2]
    return (backend.to_host((diff ** 2).sum(axis=(1, 2)) / n),
            backend.to_host(xp.abs(diff).sum(axis=(1, 2)) / n))


def evaluate(learner, theta, task: Task, tests: list[Batch], chunk: int = 256, squared: bool = False):
    """Mean test loss, number of sequences wrong and mean absolute error (against the task's
    reference: the noise-free targets of 3c) of each network on its own test set: (B,) arrays;
    with `squared`, also the mean squared error against the reference (Table 8's "MSE").

    Each network runs over its test set in chunks of `chunk` sequences, so memory stays small
    for large test sets (10,000 sequences in Exp. 2) and large nets. A task with a test of its own
    (`judge`: the continual Reber grammar's, which stops a stream at its first error) runs it
    instead for a learner that can carry its state across calls (`outputs`); its loss and error
    then cover only the steps run."""
    if hasattr(task, "judge") and hasattr(learner, "outputs") and not squared:
        return task.judge(learner, theta, tests)
    xp = backend.xp()
    B = theta.shape[0]
    loss, wrong, abs_err, sq_err = np.zeros(B), np.zeros(B, dtype=int), np.zeros(B), np.zeros(B)
    for b, test in enumerate(tests):
        for start in range(0, len(test), chunk):
            part = test.take(slice(start, start + chunk))
            rep = xp.repeat(theta[b:b + 1], len(part), axis=0)
            symbols = getattr(learner, "takes_symbols", False) and part.symbols is not None
            _, y = learner.forward(rep, part.symbols if symbols else backend.to_device(part.x))
            loss[b] += float(backend.to_host(part.loss(y).sum()))
            wrong[b] += int((~task.correct(y, part)).sum())
            sq, ab = sequence_errors(y, part, task.reference(part))
            abs_err[b] += ab.sum()
            sq_err[b] += sq.sum()
    S = len(tests[0])
    return (loss / S, wrong, abs_err / S) + ((sq_err / S,) if squared else ())


def extra_test(learner, task: Task, weights: np.ndarray, size: int, seed: int, squared: bool = False):
    """Fraction of `size` fresh sequences that each trial's `weights` gets wrong, and the mean
    absolute error against the task's reference: the paper's extra test set after ST2 (2560
    sequences in Exp. 3); with `squared`, also the mean squared error (Table 8's "MSE": per
    sequence the squared error averaged over its target steps and outputs, then averaged over the
    sequences). Trial k's set comes from (seed, k) alone, apart from its training and test
    streams; rows of `weights` with NaN (trials never solved) give NaN."""
    out = tuple(np.full(len(weights), np.nan) for _ in range(3 if squared else 2))
    for k, w in enumerate(weights):
        if np.isfinite(w).all():
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(k, 3)))
            _, wrong, *errors = evaluate(learner, backend.to_device(w[None]), task, [task.sample(rng, size)],
                                         squared=squared)
            out[0][k] = wrong[0] / size
            for a, e in zip(out[1:], errors):
                a[k] = e[0]
    return out


def save_checkpoint(path: str, state: dict, theta, arrays: dict) -> None:
    """Write a checkpoint atomically: a crash mid-write leaves the previous one intact. `state`
    is plain data (JSON), `arrays` named NumPy arrays (the stopping rule's memory)."""
    tmp = f"{path}.tmp"
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(tmp, "wb") as f:
        np.savez_compressed(f, theta=backend.to_host(theta), state=np.array(json.dumps(state)),
                            **{f"array_{k}": v for k, v in arrays.items()})
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_checkpoint(path: str) -> tuple[dict, np.ndarray, dict]:
    """(state, weights, arrays) of a checkpoint written by `save_checkpoint`."""
    with np.load(path) as f:
        arrays = {k[len("array_"):]: f[k] for k in f.files if k.startswith("array_")}
        return json.loads(str(f["state"])), f["theta"], arrays


def train(learner, task: Task, *, lr: float, trials: int, max_sequences: int, seed: int = 0,
          eval_every: int = 100, test_size: int = 256, stop=None, stop_when_solved: bool = True,
          progress: bool = True, on_evaluation=None, checkpoint: str | None = None,
          checkpoint_every: float = 60.0, resume: bool = False, time_limit: float | None = None,
          freeze_solved: bool = False) -> Run:
    """Train `trials` independent networks online, one sequence per network per iteration.

    `lr` is one learning rate, or one per trial: a sweep over learning rates is one batched run.
    `learner` provides `name`, `init(rng, n)`, `forward(theta, x)` and `train_step(theta,
    batch, lr)`; `RNN` (chapter 2) and `LSTM` (chapters 4–6) are two. `stop` is the stopping
    rule, `TestSet()` (ST1) by default. `on_evaluation(seen, theta)`, if given, is called at
    every evaluation (to record gate activations over training, say).

    With `checkpoint` (a file path), the whole state of the run is written there at the first
    evaluation after every `checkpoint_every` seconds; with `resume=True` a run starts from that
    file if it exists, and ends exactly as if it had never stopped. With `time_limit` (seconds)
    the run stops at the first evaluation past it, writes its checkpoint and returns a `Run` with
    `finished = False`: a long run split over sittings. With `freeze_solved`, a trial solved at an
    evaluation trains no further (the paper's protocol; see the module docstring): at later
    evaluations its test numbers are those of its frozen weights, its training error None.

    Returns a `Run`, with the final weights in `run.weights`.
    """
    stop = TestSet() if stop is None else stop
    for name, v in (("trials", trials), ("max_sequences", max_sequences), ("eval_every", eval_every),
                    ("test_size", test_size)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    rates = np.asarray(lr, dtype=float)
    if rates.ndim > 1 or (rates.ndim == 1 and len(rates) != trials) or not (rates > 0).all():
        raise ValueError(f"the learning rate must be positive, one number or one per trial ({trials}), got {lr!r}")
    lr = float(rates) if rates.ndim == 0 else rates
    if resume and checkpoint is None:
        raise ValueError("resume=True needs a checkpoint path")
    started = time.perf_counter()
    rngs = [trial_rngs(seed, k) for k in range(trials)]
    theta = backend.to_device(initial_weights(learner, seed, trials))
    trial_tasks = [task.for_trial(seed, k) for k in range(trials)]
    streams = [Stream(t, r[1]) for t, r in zip(trial_tasks, rngs)]
    lockstep = Lockstep(streams)
    tests = [t.test_set(r[2], test_size) for t, r in zip(trial_tasks, rngs)]
    run = Run(learner=learner.name, task=repr(task), lr=rates.tolist(), trials=trials, seed=seed,
              max_sequences=max_sequences, eval_every=eval_every, test_size=test_size, stop=repr(stop),
              scale=scale.current(), backend=backend.name(), solved_after=[None] * trials,
              freeze_solved=freeze_solved)
    run.solved_weights = np.full((trials, theta.shape[1]), np.nan)
    stop.start(trials)
    seen, earlier = 0, 0.0  # earlier: wall time spent before a resume
    active = np.arange(trials)  # the trials still training, in order
    identity = {k: getattr(run, k) for k in ("learner", "task", "lr", "trials", "seed", "max_sequences",
                                              "eval_every", "test_size", "stop")}
    if resume and os.path.exists(checkpoint):
        state, saved, arrays = load_checkpoint(checkpoint)
        if state["identity"] != identity:
            diff = {k: (state["identity"].get(k), v) for k, v in identity.items() if state["identity"].get(k) != v}
            raise ValueError(f"checkpoint {checkpoint} belongs to a different run: (saved, now) = {diff}")
        theta, seen, earlier = backend.to_device(saved), state["seen"], state["run"]["wall_time"]
        for k in ("sequences", "test_loss", "test_correct", "train_error", "solved_after"):
            setattr(run, k, state["run"][k])
        for stream, st in zip(streams, state["streams"]):
            stream.restore(st)
        stop.restore(arrays)
        if hasattr(learner, "restore"):  # a learner with memory of its own (grow.Sequential, Minibatch)
            learner.restore({k[len("learner_"):]: v for k, v in arrays.items() if k.startswith("learner_")})
        run.solved_weights = arrays.get("solved_weights", run.solved_weights)
        active = np.array(state.get("active", active), dtype=int)  # checkpoints before freezing: all
        run.trained = state["run"].get("trained", trials * seen)

    def mark(solved, seen):
        for k in np.flatnonzero(solved if solved is not None else []):
            if run.solved_after[k] is None:
                run.solved_after[k] = seen
                run.solved_weights[k] = backend.to_host(work[np.searchsorted(active, k)])

    def widen(values, fill):
        """Values of the active trials as a (trials,) array, `fill` for the frozen ones."""
        if values is None or len(active) == trials:
            return values
        out = np.full(trials, fill, dtype=np.asarray(values).dtype)
        out[active] = values
        return out

    def freeze():
        """Drop the trials solved so far from the batch (and from the learner's own memory)."""
        nonlocal active, work, lr_active
        keep = np.array([i for i, k in enumerate(active) if run.solved_after[k] is None], dtype=int)
        if len(keep) < len(active):
            active, work = active[keep], work[backend.to_device(keep)]
            if hasattr(learner, "select"):
                learner.select(keep)
        lr_active = lr if np.ndim(lr) == 0 else lr[active]

    # the weights and rates of the active trials
    work, lr_active = (theta, lr) if len(active) == trials else (theta[backend.to_device(active)], lr)
    if freeze_solved:
        freeze()
    elif len(active) < trials:
        raise ValueError(f"checkpoint {checkpoint} froze its solved trials: resume it with freeze_solved=True")

    # refresh at most once a second: a notebook kernel queues every refresh as a message
    bar = tqdm(total=max_sequences, initial=seen, desc=f"{task.name}: {learner.name}", disable=not progress,
               unit="seq", leave=False, mininterval=1.0)
    last_saved = time.perf_counter()
    xp = backend.xp()
    while seen < max_sequences and len(active) and not (stop_when_solved and run.solved.all()):
        errors = []
        for _ in range(min(eval_every, max_sequences - seen)):
            batch = lockstep.next(active)
            if batch.values is not None and not np.isfinite(batch.values).all():
                bad = active[np.flatnonzero(~np.isfinite(batch.values).all(axis=(1, 2)))]
                raise ValueError(f"training sequence {seen + 1} of trial(s) {bad.tolist()} has NaN or "
                                 f"infinite inputs; check the task generator")
            work, loss, y = learner.train_step(work, batch, lr_active)
            seen += 1
            run.trained += len(active)
            # one flag per network comes to the host, not the loss and the weights
            finite = backend.to_host(xp.isfinite(loss) & xp.isfinite(work).all(axis=1))
            if not finite.all():
                raise FloatingPointError(f"training diverged: trial(s) {active[~finite].tolist()} "
                                         f"reached non-finite weights or error at sequence {seen} "
                                         f"(learning rate {run.lr}); try a smaller one")
            sq_err, _ = sequence_errors(y, batch)
            errors.append(sq_err)
            if stop.watches_training:  # ST3 judges every training sequence, ST1/ST2 only the tests
                mark(stop.on_sequence(widen(task.correct(y, batch), True), widen(sq_err, 0.0)), seen)
        if len(active) == trials:
            theta = work
        else:
            theta[backend.to_device(active)] = work
        # frozen trials keep the test numbers of their frozen weights
        loss = np.array(run.test_loss[-1]) if run.test_loss else np.zeros(trials)
        wrong = np.rint((1.0 - np.array(run.test_correct[-1])) * test_size) if run.test_correct else np.zeros(trials)
        abs_err = np.zeros(trials)
        loss[active], wrong[active], abs_err[active] = evaluate(learner, work, task, [tests[k] for k in active])
        train_error = [None] * trials
        for k, e in zip(active, np.mean(errors, axis=0)):
            train_error[k] = float(e)
        run.sequences.append(seen)
        run.test_loss.append(loss.tolist())
        run.test_correct.append((1.0 - wrong / test_size).tolist())
        run.train_error.append(train_error)
        mark(widen(stop.on_test(wrong[active], abs_err[active]), False), seen)
        if on_evaluation is not None:
            on_evaluation(seen, theta)
        if freeze_solved:
            freeze()
        bar.update(seen - bar.n)
        bar.set_postfix(solved=f"{int(run.solved.sum())}/{trials}", loss=f"{loss.mean():.3g}", refresh=False)
        out_of_time = time_limit is not None and time.perf_counter() - started >= time_limit
        if checkpoint is not None and (out_of_time or time.perf_counter() - last_saved >= checkpoint_every):
            run.wall_time = earlier + time.perf_counter() - started
            state = {"identity": identity, "seen": seen, "run": run.as_dict(), "active": active.tolist(),
                     "streams": [st.state() for st in streams]}
            save_checkpoint(checkpoint, state, theta, stop.state() | {"solved_weights": run.solved_weights}
                            | {f"learner_{k}": v for k, v in getattr(learner, "state", dict)().items()})
            last_saved = time.perf_counter()
        if out_of_time and seen < max_sequences and len(active) and not (stop_when_solved and run.solved.all()):
            run.finished = False
            break
    bar.close()
    run.weights = backend.to_host(theta)
    run.wall_time = earlier + time.perf_counter() - started
    return run

"""Online training of many independent networks side by side, and the record of a run.

Each trial is one network with its own initial weights, its own stream of training sequences
and its own test set; all trials advance together as one batched computation, one sequence
per network per iteration. Trial k's streams are derived from (seed, k) alone, so its result
does not depend on how many other trials run beside it. When a trial counts as solved is the
stopping rule (`stopping`: the paper's ST1, ST2, ST3).

By default a solved trial goes on training until every trial is solved (the book's chapters watch
what a solved net does next). With `freeze_solved`, as in the paper, where a trial's training
stops at its success, a trial solved at an evaluation stops there: its weights stand still, it
draws no more sequences, and the batch shrinks to the trials still learning. Trials are
independent, so the others' numbers do not change; only the cost does (a run of 20 trials with one
left costs a twentieth per sequence).

A long run goes on over several sittings: `train` writes its whole state to a checkpoint
(`checkpoint`) and, resumed from it, ends exactly as if it had never stopped. `Run.sittings`
records each sitting's start, end and code (`provenance.code_state`).
"""
from __future__ import annotations

import datetime
import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np
from tqdm.auto import tqdm

from . import backend, provenance, scale
from . import checkpoint as ckpt
from .evaluation import Stacked, evaluate
from .learner import Learner
from .stopping import TestSet
from .streams import Lockstep, Stream, initial_weights, trial_rngs
from .tasks.base import Task

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
    # one per start or resume: {"started", "ended" (ISO UTC), "wall_time" (s), **provenance.code_state()}
    sittings: list = field(default_factory=list)
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


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


class Training:
    """A run in progress: every trial's streams, test set and weights (`theta`, on the device),
    the trials still training (`active`, in order) with their weights (`work`) and learning rates
    (`lr_active`), the sequences seen so far and the `Run` being recorded."""

    def __init__(self, learner: Learner, task: Task, stop, lr, run: Run):
        self.started = time.perf_counter()
        self.learner, self.task, self.stop, self.lr, self.run = learner, task, stop, lr, run
        trials, seed = run.trials, run.seed
        rngs = [trial_rngs(seed, k) for k in range(trials)]
        self.theta = backend.to_device(initial_weights(learner, seed, trials))
        trial_tasks = [task.for_trial(seed, k) for k in range(trials)]
        self.streams = [Stream(t, r[1]) for t, r in zip(trial_tasks, rngs)]
        self.lockstep = Lockstep(self.streams)
        self.tests = [t.test_set(r[2], run.test_size) for t, r in zip(trial_tasks, rngs)]
        run.solved_after = [None] * trials
        run.solved_weights = np.full((trials, self.theta.shape[1]), np.nan)
        stop.start(trials)
        self.seen, self.earlier = 0, 0.0  # earlier: wall time spent in earlier sittings
        self.active = np.arange(trials)
        self._stacked = None  # the active trials' test sets, stacked (`evaluation.Stacked`)

    @property
    def identity(self) -> dict:
        """What a checkpoint must share with the run resumed from it."""
        return {k: getattr(self.run, k) for k in ("learner", "task", "lr", "trials", "seed", "max_sequences",
                                                  "eval_every", "test_size", "stop")}

    def resume(self, path: str) -> None:
        """Go on from the checkpoint at `path` (`ckpt.Unreadable` if it is not one)."""
        state, saved, arrays = ckpt.load(path)
        saved_identity = state["identity"]
        if saved_identity != self.identity:
            diff = {k: (saved_identity.get(k), v) for k, v in self.identity.items() if saved_identity.get(k) != v}
            raise ValueError(f"checkpoint {path} belongs to a different run: (saved, now) = {diff}")
        run = self.run
        self.theta, self.seen, self.earlier = backend.to_device(saved), state["seen"], state["run"]["wall_time"]
        for k in ("sequences", "test_loss", "test_correct", "train_error", "solved_after"):
            setattr(run, k, state["run"][k])
        run.sittings = state["run"].get("sittings", [])  # none in checkpoints written before sittings
        for stream, st in zip(self.streams, state["streams"]):
            stream.restore(st)
        self.stop.restore(arrays)
        self.learner.restore({k[len("learner_"):]: v for k, v in arrays.items() if k.startswith("learner_")})
        run.solved_weights = arrays.get("solved_weights", run.solved_weights)
        self.active = np.array(state.get("active", self.active), dtype=int)  # checkpoints before freezing: all
        run.trained = state["run"].get("trained", run.trials * self.seen)

    def begin(self, freeze_solved: bool, path: str | None) -> None:
        """Start this sitting: record it, and take the active trials' weights and rates."""
        if len(self.active) < self.run.trials and not freeze_solved:
            raise ValueError(f"checkpoint {path} froze its solved trials: resume it with freeze_solved=True")
        self.run.sittings.append({"started": _now(), "ended": None, "wall_time": 0.0, **provenance.code_state()})
        self.work = self.theta if len(self.active) == self.run.trials else self.theta[backend.to_device(self.active)]
        self.lr_active = self.lr
        if freeze_solved:
            self.freeze()

    def going(self, stop_when_solved: bool) -> bool:
        """Whether there is training left to do."""
        return (self.seen < self.run.max_sequences and len(self.active) > 0
                and not (stop_when_solved and self.run.solved.all()))

    def widen(self, values, fill):
        """Values of the active trials (along the first axis) for every trial, `fill` for the frozen ones."""
        if values is None or len(self.active) == self.run.trials:
            return values
        out = np.full((self.run.trials,) + np.shape(values)[1:], fill, dtype=np.asarray(values).dtype)
        out[self.active] = values
        return out

    def mark(self, solved, weights=None) -> None:
        """Record the trials that `solved` (a (trials,) flag array, or None) says are solved now;
        `weights(j)` gives the j-th active trial's weights of now (default: `work`'s row j)."""
        for k in np.flatnonzero(solved if solved is not None else []):
            if self.run.solved_after[k] is None:
                j = int(np.searchsorted(self.active, k))
                self.run.solved_after[k] = self.seen
                self.run.solved_weights[k] = backend.to_host(self.work[j] if weights is None else weights(j))

    def freeze(self) -> None:
        """Drop the trials solved so far from the batch (and from the learner's own memory)."""
        keep = np.array([i for i, k in enumerate(self.active) if self.run.solved_after[k] is None], dtype=int)
        if len(keep) < len(self.active):
            self.active, self.work = self.active[keep], self.work[backend.to_device(keep)]
            self._stacked = None
            self.learner.select(keep)
        self.lr_active = self.lr if np.ndim(self.lr) == 0 else self.lr[self.active]

    def steps(self, n: int) -> list:
        """Train every active trial on its next `n` sequences: their squared errors, one (active,)
        array per sequence. A learner that trains many sequences per call (`trains_many`: the
        compiled kernel) gets them as many at a time as the streams' chunks hold, in one call."""
        if not self.learner.trains_many:
            return [self.step() for _ in range(n)]
        errors = []
        while len(errors) < n:
            errors += self.step_many(min(n - len(errors), self.lockstep.ready(self.active), self._most()))
        return errors

    def _most(self) -> int:
        """Sequences per network in one call that keep its outputs under 32 MB."""
        return max(1, (1 << 22) // (self.lockstep.row_size(self.active) * len(self.active)))

    def step(self) -> np.ndarray:
        """Train every active trial on its next sequence: their squared errors, (active,)."""
        batch = self.lockstep.next(self.active)
        self._check_inputs(batch, 1)
        self.work, loss, y = self.learner.train_step(self.work, batch, self.lr_active)
        return self._trained(batch, loss[:, None], y, 1)[0]

    def step_many(self, k: int) -> list:
        """`step` `k` times in one call of the learner (`trains_many`)."""
        batch, start = self.lockstep.next_many(self.active, k), self.work
        self._check_inputs(batch, k)
        self.work, loss, y = self.learner.train_many(start, batch, k, self.lr_active)

        def weights(j, s):  # trial j's weights after its sequence s of this call: trained again
            if s == k - 1:
                return self.work[j]
            rates = self.lr_active if np.ndim(self.lr_active) == 0 else self.lr_active[j:j + 1]
            return self.learner.train_many(start[j:j + 1], batch.take(j * k + np.arange(s + 1)), s + 1, rates)[0][0]

        return self._trained(batch, loss, y, k, weights)

    def _check_inputs(self, batch, k: int) -> None:
        if batch.values is not None and not np.isfinite(batch.values).all():
            row = np.flatnonzero(~np.isfinite(batch.values).all(axis=(1, 2)))[0]
            raise ValueError(f"training sequence {self.seen + 1 + row % k} of trial {self.active[row // k]} has "
                             f"NaN or infinite inputs; check the task generator")

    def _trained(self, batch, loss, y, k: int, weights=None) -> list:
        """The bookkeeping of `k` sequences just trained (`loss` (active, k), outputs row j*k+s
        for trial j's sequence s): divergence, training errors, ST3."""
        active = self.active
        self.run.trained += k * len(active)
        # one flag per network comes to the host, not the loss and the weights
        xp = backend.xp()
        finite = backend.to_host(xp.isfinite(loss).all(axis=1) & xp.isfinite(self.work).all(axis=1))
        if not finite.all():
            first = np.flatnonzero(~backend.to_host(xp.isfinite(loss).all(axis=0)))  # the first bad sequence
            at = self.seen + (int(first[0]) + 1 if len(first) else k)
            raise FloatingPointError(f"training diverged: trial(s) {active[~finite].tolist()} "
                                     f"reached non-finite weights or error at sequence {at} "
                                     f"(learning rate {self.run.lr}); try a smaller one")
        # each sequence's training error: its mean squared output error over its target steps,
        # from the loss (1/2 the summed squares) the learner returns
        targets = batch.mask.sum(axis=1).reshape(len(active), k) * batch.y.shape[2]
        sq_err = 2.0 * backend.to_host(loss) / np.maximum(targets, 1)
        # ST3 judges every training sequence, ST1/ST2 only the tests
        seen, self.seen = self.seen, self.seen + k
        if self.stop.watches_training:
            correct = self.task.correct(y, batch).reshape(len(active), k)
            solved = self.stop.on_many(self.widen(correct, True), self.widen(sq_err, 0.0), ~self.run.solved)
            for s in np.flatnonzero(solved.any(axis=0)):  # in order: a trial keeps the first
                self.seen = seen + int(s) + 1
                self.mark(solved[:, s], None if weights is None else lambda j, s=s: weights(j, s))
            self.seen = seen + k
        return [sq_err[:, s] for s in range(k)]

    def evaluate(self, errors: list) -> None:
        """Test the active trials and record an evaluation; `errors` are their training errors since
        the last one. Frozen trials keep the test numbers of their frozen weights."""
        run, active, trials = self.run, self.active, self.run.trials
        if len(active) == trials:
            self.theta = self.work
        else:
            self.theta[backend.to_device(active)] = self.work
        loss, wrong = np.zeros(trials), np.zeros(trials)
        if run.test_loss:
            loss, wrong = np.array(run.test_loss[-1]), np.rint((1.0 - np.array(run.test_correct[-1])) * run.test_size)
        abs_err = np.zeros(trials)
        if self._stacked is None:  # the active trials' sets, stacked once while they stay the same
            self._stacked = Stacked([self.tests[k] for k in active], self.work.shape[1])
        loss[active], wrong[active], abs_err[active] = evaluate(self.learner, self.work, self.task, self._stacked)
        train_error = [None] * trials
        for k, e in zip(active, np.mean(errors, axis=0)):
            train_error[k] = float(e)
        run.sequences.append(self.seen)
        run.test_loss.append(loss.tolist())
        run.test_correct.append((1.0 - wrong / run.test_size).tolist())
        run.train_error.append(train_error)
        self.mark(self.widen(self.stop.on_test(wrong[active], abs_err[active]), False))

    def clock(self) -> None:
        """Bring the run's wall time and its sitting's end up to now."""
        now = time.perf_counter() - self.started
        self.run.wall_time = self.earlier + now
        self.run.sittings[-1].update(ended=_now(), wall_time=now)

    def save(self, path: str) -> None:
        """Write the whole state of the run to a checkpoint at `path`."""
        self.clock()
        state = {"identity": self.identity, "seen": self.seen, "run": self.run.as_dict(),
                 "active": self.active.tolist(), "streams": [st.state() for st in self.streams]}
        ckpt.save(path, state, self.theta, self.stop.state() | {"solved_weights": self.run.solved_weights}
                  | {f"learner_{k}": v for k, v in self.learner.state().items()})


def _checked_rates(lr, trials: int, **counts):
    """The learning rate(s) as a float or a (trials,) array, after checking them and `counts`."""
    for name, v in (("trials", trials), *counts.items()):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    rates = np.asarray(lr, dtype=float)
    if rates.ndim > 1 or (rates.ndim == 1 and len(rates) != trials) or not (rates > 0).all():
        raise ValueError(f"the learning rate must be positive, one number or one per trial ({trials}), got {lr!r}")
    return float(rates) if rates.ndim == 0 else rates


def train(learner: Learner, task: Task, *, lr: float, trials: int, max_sequences: int, seed: int = 0,
          eval_every: int = 100, test_size: int = 256, stop=None, stop_when_solved: bool = True,
          progress: bool = True, on_evaluation=None, checkpoint: str | None = None,
          checkpoint_every: float = 60.0, resume: bool = False, time_limit: float | None = None,
          should_stop=None, freeze_solved: bool = False) -> Run:
    """Train `trials` independent networks online, one sequence per network per iteration.

    `lr` is one learning rate, or one per trial: a sweep over learning rates is one batched run.
    `learner` is a `learner.Learner`; `RNN` (chapter 2) and `LSTM` (chapters 4–6) are two. `stop`
    is the stopping rule (`stopping`), `TestSet()` (ST1) by default. `on_evaluation(seen, theta)`,
    if given, is called at every evaluation (to record gate activations over training, say).

    With `checkpoint` (a file path), the whole state of the run is written there at the first
    evaluation after every `checkpoint_every` seconds; with `resume=True` a run starts from that
    file if it exists, and ends exactly as if it had never stopped. With `time_limit` (seconds)
    the run stops at the first evaluation past it, writes its checkpoint and returns a `Run` with
    `finished = False`: a long run split over sittings; so does `should_stop()`, asked at every
    evaluation, when it returns True (a Ctrl-C caught by `run.run`). With `freeze_solved`, a trial solved at an
    evaluation trains no further (the paper's protocol; see the module docstring): at later
    evaluations its test numbers are those of its frozen weights, its training error None.

    Returns a `Run`, with the final weights in `run.weights`.
    """
    stop = TestSet() if stop is None else stop
    lr = _checked_rates(lr, trials, max_sequences=max_sequences, eval_every=eval_every, test_size=test_size)
    if resume and checkpoint is None:
        raise ValueError("resume=True needs a checkpoint path")
    run = Run(learner=learner.name, task=repr(task), lr=np.asarray(lr).tolist(), trials=trials, seed=seed,
              max_sequences=max_sequences, eval_every=eval_every, test_size=test_size, stop=repr(stop),
              scale=scale.current(), backend=backend.name(), freeze_solved=freeze_solved)
    training = Training(learner, task, stop, lr, run)
    if resume and os.path.exists(checkpoint):
        training.resume(checkpoint)
    training.begin(freeze_solved, checkpoint)
    # refresh at most once a second: a notebook kernel queues every refresh as a message
    bar = tqdm(total=max_sequences, initial=training.seen, desc=f"{task.name}: {learner.name}",
               disable=not progress, unit="seq", leave=False, mininterval=1.0)
    last_saved = time.perf_counter()
    while training.going(stop_when_solved):
        training.evaluate(training.steps(min(eval_every, max_sequences - training.seen)))
        if on_evaluation is not None:
            on_evaluation(training.seen, training.theta)
        if freeze_solved:
            training.freeze()
        bar.update(training.seen - bar.n)
        bar.set_postfix(solved=f"{int(run.solved.sum())}/{trials}", loss=f"{np.mean(run.test_loss[-1]):.3g}",
                        refresh=False)
        out_of_time = ((time_limit is not None and time.perf_counter() - training.started >= time_limit)
                       or (should_stop is not None and should_stop()))
        if checkpoint is not None and (out_of_time or time.perf_counter() - last_saved >= checkpoint_every):
            training.save(checkpoint)
            last_saved = time.perf_counter()
        if out_of_time and training.going(stop_when_solved):
            run.finished = False
            break
    bar.close()
    run.weights = backend.to_host(training.theta)
    training.clock()
    return run

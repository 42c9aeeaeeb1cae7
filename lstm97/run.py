"""A run of one row of the paper's tables, as the command line and the chapters make it.

`run` does what a run is: it checks that the run can start and that its record can be written
(before any training), builds the learner (`learner_for`), trains (`train.train`, checkpointing as
it goes), measures the extra test set, writes the record and the kept nets where `records.path`
says, and removes the checkpoint. A run never replaces a record unless asked (`overwrite`), and
at the paper's scale it starts only from committed code unless asked (`allow_dirty`); what it
cannot do is a `Refused` (a ValueError) with one line that says why and what to do.
"""
from __future__ import annotations

import contextlib
import signal
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from . import backend, checkpoint, evaluation, grow, provenance, records, scale, train
from .lstm import LSTM
from .minibatch import Minibatch

ENGINES = ("auto", "fast", "gpu", "reference")


class Refused(ValueError):
    """A run that cannot start or go on; the message is one line naming the file or the flag."""


class Interrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C or SIGTERM (`signum`); says where its last checkpoint is, from
    which `resume` goes on."""

    def __init__(self, message: str, signum: int = signal.SIGINT):
        super().__init__(message)
        self.signum = signum


@contextlib.contextmanager
def _stop_at_evaluation():
    """While a run trains: Ctrl-C (SIGINT) or SIGTERM asks it to stop at its next evaluation,
    where it writes its checkpoint, so nothing trained is lost; a second signal stops it at once,
    back at the last checkpoint. Yields the signals received. Outside the main thread, where no
    handler can be set, a signal keeps its usual effect."""
    got = []
    if threading.current_thread() is not threading.main_thread():
        yield got
        return

    def asked(signum, frame):
        got.append(signum)
        if len(got) > 1:
            raise KeyboardInterrupt
        _say(f"{signal.Signals(signum).name}: stopping at the next evaluation, after writing a checkpoint "
             f"(send it again to stop at once)")

    before = {s: signal.signal(s, asked) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield got
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


@dataclass
class Outcome:
    """What a run left: `record` (the record's dict, None where the run stopped early), `path` its
    file, `checkpoint` the file to resume from where the run stopped at its time limit (else None)."""

    protocol: object
    engine: str
    run: train.Run
    path: Path | None
    record: dict | None
    checkpoint: Path | None

    @property
    def finished(self) -> bool:
        return self.checkpoint is None


def learner_for(protocol, engine: str, trials: int = 1):
    """The learner for a protocol training `trials` networks side by side, and the engine's name:
    for the 1997 cell a compiled kernel (`auto`: the GPU's from `gpu.GPU_MIN_NETWORKS` networks
    on a visible GPU with CuPy arrays, else the CPU's, whatever the array backend), else the reference; with the
    protocol's sequential construction, if any. An engine the protocol cannot use is a `Refused`."""
    learner, engine = _learner(protocol, engine, trials)
    if protocol.minibatch > 1:
        learner = Minibatch(learner, protocol.minibatch)
    return (grow.Sequential(learner) if protocol.grow else learner), engine


def _learner(protocol, engine: str, trials: int):
    if engine not in ENGINES:
        raise Refused(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    compiled = engine in ("fast", "gpu")
    if protocol.competitor:  # a conventional net: chapter 2's NumPy/CuPy code, no compiled kernel
        if compiled:
            raise Refused(f"{protocol.name} trains a conventional net, which has no {engine} engine; "
                          f"use --engine reference")
        return protocol.rnn(), "reference"
    # the compiled kernels have only the 1997 cell and its truncated gradient
    later = protocol.beyond_1997
    if later and compiled:
        raise Refused(f"the {engine} engine implements only the 1997 cell, not {', '.join(later)}; "
                      f"use --engine reference")
    if engine == "reference" or later:
        return LSTM(protocol.config(), update=protocol.update, gradient=protocol.gradient), "reference"
    from . import gpu  # imports numba.cuda: only where a compiled engine is asked for
    from .fast import FastLSTM

    if engine == "gpu" or (engine == "auto" and backend.name() == "cupy" and trials >= gpu.GPU_MIN_NETWORKS
                          and gpu.available()[0]):
        try:
            return gpu.GPULSTM(protocol.config(), update=protocol.update), "gpu"
        except gpu.GPUUnavailable as err:
            raise Refused(str(err)) from None
    return FastLSTM(protocol.config(), update=protocol.update), "fast"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _writable(folder: Path) -> None:
    """Create `folder` if need be and write a file in it, or say why not (before any training)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise Refused(f"cannot write in {folder}: {err.strerror or err}; choose another --out") from None


def _check_start(path: Path, ckpt: Path, *, resume: bool, overwrite: bool, allow_dirty: bool) -> None:
    """Everything that would make the run fail or lose a record, checked before it trains."""
    if path.is_dir():
        raise Refused(f"{path} is a folder; --out names the record's file, e.g. {path / 'run.json'}")
    if path.exists() and not overwrite:
        raise Refused(f"{path} already holds a recorded run; --overwrite replaces it "
                      f"(another --seed or --out writes a new one)")
    if ckpt.exists() and not resume:
        raise Refused(f"{ckpt} exists from an interrupted run; add --resume to go on from it, "
                      f"or delete it to start over")
    if ckpt.exists():
        checkpoint.load(ckpt)  # one that is not a whole checkpoint: `checkpoint.Unreadable`, a ValueError
    if scale.current() == "paper" and not allow_dirty:
        code = provenance.code_state()
        if code["code_changed"]:
            raise Refused(f"the code under lstm97/ differs from commit {code['commit'][:10]}: commit it, "
                          f"or add --allow-dirty to run anyway (the record keeps a hash of the difference)")
    _writable(path.parent)


def _checked_limits(max_minutes, checkpoint_every) -> None:
    if max_minutes is not None and not max_minutes > 0:
        raise Refused(f"--max-minutes must be positive, got {max_minutes:g}")
    if not checkpoint_every >= 0:
        raise Refused(f"--checkpoint-every must be 0 (at every evaluation) or more seconds, got {checkpoint_every:g}")


def run(protocol, *, trials: int | None = None, max_sequences: int | None = None, seed: int = 0,
        engine: str = "auto", eval_every: int | None = None, out=None, resume: bool = False,
        overwrite: bool = False, allow_dirty: bool = False, max_minutes: float | None = None,
        checkpoint_every: float = 300.0, progress: bool = True, command: list[str] | None = None,
        record: bool = True) -> Outcome:
    """Run a protocol (`experiments.get`, `experiments.vary`) at the current scale and record it.

    `trials`, `max_sequences` default to the protocol's at that scale; `out` to
    `records.path(protocol.name, seed, scale)`. With `resume`, the run goes on from the checkpoint beside `out`
    if there is one, and says that it starts afresh if there is none. With `max_minutes` it stops
    at the first evaluation past that time, keeping the checkpoint (`Outcome.finished` False).
    `command` (the command line, a list) goes into the record. Raises `Refused` before training
    where the run cannot start (a record at `out` without `overwrite`, a checkpoint without
    `resume`, an unwritable folder, changed code at the paper's scale without `allow_dirty`, an
    engine the protocol cannot use, an unreadable checkpoint), and `Interrupted` on Ctrl-C or SIGTERM:
    the first stops the run at its next evaluation with a checkpoint (`_stop_at_evaluation`).

    With `record=False` (the chapters' live runs) nothing is written, neither record nor
    checkpoint: `Outcome.record` holds the record that would have been written, `path` is None.
    """
    _checked_limits(max_minutes, checkpoint_every)
    protocol = protocol.scaled(scale.current(), trials, max_sequences)
    eval_every = eval_every or max(1, min(1000, protocol.max_sequences // 20))
    learner, engine = learner_for(protocol, engine, protocol.trials)
    if not record:
        done = _train(protocol, learner, engine, seed, eval_every, progress, say=progress, checkpoint=None)
        extra = _extra(protocol, learner, done, seed)
        return Outcome(protocol, engine, done, None, records.record(protocol, done, engine, extra), None)
    path = Path(out) if out is not None else records.path(protocol.name, seed, scale.current())
    ckpt = records.checkpoint_file(path)
    _check_start(path, ckpt, resume=resume, overwrite=overwrite, allow_dirty=allow_dirty)
    if resume and not ckpt.exists():
        _say(f"{protocol.name}: no checkpoint {ckpt} to resume from: starting afresh")
    with _stop_at_evaluation() as got:
        try:
            done = _train(protocol, learner, engine, seed, eval_every, progress, checkpoint=str(ckpt),
                          checkpoint_every=checkpoint_every, resume=resume and ckpt.exists(),
                          time_limit=None if max_minutes is None else 60 * max_minutes,
                          should_stop=lambda: bool(got))
            if not done.finished and got:  # stopped at an evaluation, as the signal asked
                raise KeyboardInterrupt
            if not done.finished:
                return Outcome(protocol, engine, done, path, None, ckpt)
            kept = records.save_run(path, protocol, done, engine, _extra(protocol, learner, done, seed), command)
        except KeyboardInterrupt:
            raise Interrupted(_left(ckpt, checkpoint_every), got[-1] if got else signal.SIGINT) from None
        except OSError as err:  # writing a checkpoint or the record: the folder was checked, so a full disk, say
            raise Refused(f"{err}; {_left(ckpt, checkpoint_every)}") from None
    ckpt.unlink(missing_ok=True)
    return Outcome(protocol, engine, done, path, kept, None)


def _train(protocol, learner, engine: str, seed: int, eval_every: int, progress: bool, say: bool = True,
           **checkpointing):
    if say:
        _say(f"{protocol.name}: {protocol.title} — {learner.name}, {protocol.trials} trials, at most "
             f"{protocol.max_sequences:,} sequences, scale {scale.current()}, {engine} engine, {backend.describe()}")
    return train.train(learner, protocol.make_task(), lr=protocol.lr, trials=protocol.trials,
                       max_sequences=protocol.max_sequences, seed=seed, eval_every=eval_every,
                       test_size=protocol.test_size, stop=protocol.stop, progress=progress,
                       freeze_solved=True,  # as in the paper, a trial's training ends at its success
                       **checkpointing)


def _extra(protocol, learner, done: train.Run, seed: int):
    """The extra test set's numbers for the solved trials' nets, where the protocol has one."""
    if not protocol.extra_test:
        return None
    return evaluation.extra_test(learner, protocol.make_task(), done.solved_weights, protocol.extra_test, seed,
                            squared=True)


def _left(ckpt: Path, checkpoint_every: float) -> str:
    """What a run stopped before its end leaves: its last checkpoint, if it wrote one."""
    if ckpt.exists():
        return f"{ckpt} holds the last checkpoint; --resume goes on from it"
    return (f"no checkpoint was written yet (the first comes at an evaluation after {checkpoint_every:g} s); "
            f"the run starts afresh when run again")


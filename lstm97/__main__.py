"""Command line: run the paper's experiments, with progress, checkpoints and result files.

    python -m lstm97 list
    python -m lstm97 status                                  # recorded results and what is pending
    python -m lstm97 run 4-1 --scale paper --trials 10 --seed 0 --out results/paper/4-1.json
    python -m lstm97 run 4-1 --scale paper --resume          # go on from the last checkpoint
    python -m lstm97 run 1-2 --scale paper --vary bias=all   # a variant (ablation), in results/paper/variants/
"""
from __future__ import annotations

import argparse
import ast
import os
import sys

import numpy as np

from . import backend, experiments, grow, results, scale, train
from .lstm import LSTM

ENGINES = ("auto", "fast", "gpu", "reference")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def change(text: str) -> tuple:
    """KEY=VALUE, VALUE a Python literal (0.5, (-1.0, -2.0), True) or else a word."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        value = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        pass
    return key, value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lstm97", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the experiments")
    sub.add_parser("status", help="which paper-scale results are recorded, and the time the rest still needs")
    run = sub.add_parser("run", help="run one experiment (one row of the paper's tables)")
    run.add_argument("experiment", help="e.g. 1-2, 2a, 2c-5, 3a-1, 4-3, 5-13, 6b (see `list`)")
    run.add_argument("--scale", choices=scale.SCALES, default=None, help="default: LSTM97_SCALE or book")
    run.add_argument("--trials", type=positive_int, help="independent trials (default: the paper's, reduced below paper scale)")
    run.add_argument("--max-sequences", type=positive_int, help="training budget per trial")
    run.add_argument("--backend", choices=backend.BACKENDS, default=None, help="default: LSTM97_BACKEND or numpy")
    run.add_argument("--engine", choices=ENGINES, default="auto",
                     help="fast: the compiled CPU kernel; gpu: the GPU kernel, one CUDA thread per network; "
                          "reference: the NumPy/CuPy code of chapters 4-5; auto: gpu from "
                          "lstm97.gpu.GPU_MIN_NETWORKS trials on a visible GPU with the cupy backend, else fast where it can run "
                          "(the 1997 cell), else reference")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--eval-every", type=positive_int, default=None, help="sequences between evaluations")
    run.add_argument("--out", help="result file (default results/<scale>/<experiment>-seed<seed>.json)")
    run.add_argument("--checkpoint-every", type=float, default=300.0, help="seconds between checkpoints")
    run.add_argument("--resume", action="store_true", help="go on from the checkpoint beside --out")
    run.add_argument("--max-minutes", type=float, default=None,
                     help="stop after this long, keeping the checkpoint (exit code 3); go on later with --resume")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--vary", action="append", type=change, default=[], metavar="KEY=VALUE",
                     help="run a variant: change a field of the net, of the protocol or of the task, e.g. "
                          "bias=all, update=sequence, targets=legal (repeatable; results/<scale>/variants/)")
    return p


def learner_for(protocol, engine: str, trials: int = 1):
    """The learner for a protocol training `trials` networks side by side, and the engine's name:
    for the 1997 cell a compiled kernel (`auto`: the GPU's from `gpu.GPU_MIN_NETWORKS` networks
    on a visible GPU with CuPy arrays, else the CPU's, whatever the array backend), else the reference; with the
    protocol's sequential construction, if any."""
    learner, engine = _learner(protocol, engine, trials)
    if protocol.minibatch > 1:
        learner = train.Minibatch(learner, protocol.minibatch)
    return (grow.Sequential(learner) if protocol.grow else learner), engine


def _learner(protocol, engine: str, trials: int):
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    compiled = engine in ("fast", "gpu")
    if protocol.competitor:  # a conventional net: chapter 2's NumPy/CuPy code, no compiled kernel
        if compiled:
            raise SystemExit(f"error: {protocol.name} trains a conventional net, which has no {engine} engine; "
                             f"use --engine reference")
        return protocol.rnn(), "reference"
    # the compiled kernels have only the 1997 cell and its truncated gradient
    later = protocol.beyond_1997
    if later and compiled:
        raise SystemExit(f"error: the {engine} engine implements only the 1997 cell, not {', '.join(later)}; "
                         f"use --engine reference")
    if engine == "reference" or later:
        return LSTM(protocol.config(), update=protocol.update, gradient=protocol.gradient), "reference"
    from . import gpu
    from .fast import FastLSTM

    if engine == "gpu" or (engine == "auto" and backend.name() == "cupy" and trials >= gpu.GPU_MIN_NETWORKS
                          and gpu.available()[0]):
        try:
            return gpu.GPULSTM(protocol.config(), update=protocol.update), "gpu"
        except gpu.GPUUnavailable as err:
            raise SystemExit(f"error: {err}") from None
    return FastLSTM(protocol.config(), update=protocol.update), "fast"


def _print_rows(registry: dict) -> None:
    """One line per row of `registry` (`lstm97 list`), in columns as wide as its names and titles."""
    name_w = max(map(len, registry))
    title_w = max(len(p.title) for p in registry.values())
    for name, p in registry.items():
        print(f"{name:{name_w}s} {p.title:{title_w}s} {p.trials:3d} trials, lr {p.lr:g}, stop {p.stop!r}")


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.command == "list":
        _print_rows(experiments.PROTOCOLS)
        print("\nThe paper's competitors (conventional nets, chapters 7 and 8):")
        _print_rows(experiments.COMPETITORS)
        return 0
    if args.command == "status":
        print(results.status_table(experiments.PROTOCOLS.values()))
        print("\nThe paper's competitors:\n")
        print(results.status_table(experiments.COMPETITORS.values()))
        return 0
    try:
        protocol = experiments.vary(experiments.get(args.experiment), dict(args.vary))
        if args.scale:
            scale.use(args.scale)
        if args.backend:
            backend.use(args.backend)
    except (ValueError, backend.BackendUnavailable) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    protocol = protocol.scaled(scale.current())
    trials = args.trials or protocol.trials
    budget = args.max_sequences or protocol.max_sequences
    eval_every = args.eval_every or max(1, min(1000, budget // 20))
    folder = os.path.join("results", scale.current(), *(["variants"] if protocol.changes else []))
    out = args.out or os.path.join(folder, f"{protocol.name}-seed{args.seed}.json")
    checkpoint = out + ".ckpt"
    if os.path.exists(checkpoint) and not args.resume:
        print(f"error: {checkpoint} exists from an interrupted run; add --resume to go on from it, "
              f"or delete it to start over", file=sys.stderr)
        return 2
    try:
        learner, engine = learner_for(protocol, args.engine, trials)
    except ValueError as err:  # a variant's change the learner cannot take
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{protocol.name}: {protocol.title} — {learner.name}, {trials} trials, at most {budget:,} sequences, "
          f"scale {scale.current()}, {engine} engine, {backend.describe()}", file=sys.stderr)
    run = train.train(learner, protocol.make_task(), lr=protocol.lr, trials=trials, max_sequences=budget,
                      seed=args.seed, eval_every=eval_every, test_size=protocol.test_size, stop=protocol.stop,
                      progress=not args.quiet, checkpoint=checkpoint, checkpoint_every=args.checkpoint_every,
                      resume=args.resume, time_limit=None if args.max_minutes is None else 60 * args.max_minutes,
                      freeze_solved=True)  # as in the paper, a trial's training ends at its success
    if not run.finished:
        print(f"{protocol.name}: stopped after {args.max_minutes:g} min at {run.sequences[-1]:,} sequences "
              f"({int(run.solved.sum())}/{trials} solved); the checkpoint {checkpoint} goes on with --resume",
              file=sys.stderr)
        return 3
    extra = (train.extra_test(learner, protocol.make_task(), run.solved_weights, protocol.extra_test, args.seed,
                              squared=True)
             if protocol.extra_test else None)
    results.write(out, results.record(protocol, run, engine, extra))
    solved = ~np.isnan(run.solved_weights).any(axis=1)  # a solved trial's net as it was when solved
    results.keep_weights(out, np.where(solved[:, None], run.solved_weights, run.weights), run.sequences[-1])
    if os.path.exists(checkpoint):
        os.remove(checkpoint)
    s = results.summary(run.solved_after)
    print(f"{protocol.name}: solved {s['solved']}/{s['trials']} in {run.wall_time:.1f} s; wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

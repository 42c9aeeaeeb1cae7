"""Command line: run the paper's experiments, with progress, checkpoints and records.

    python -m lstm97 list
    python -m lstm97 status                      # recorded results and what is pending
    python -m lstm97 status --write              # the same, into README.md and results/README.md
    python -m lstm97 status --seeds              # the cheap rows' further seeds and the distributions, to run
    python -m lstm97 run 4-1 --scale paper --seed 1                 # results/paper/4-1-seed1.json
    python -m lstm97 run 4-1 --scale paper --seed 1 --resume        # go on from the last checkpoint
    python -m lstm97 run 1-2 --scale paper --vary bias=all          # a variant, in results/paper/variants/
    python -m lstm97 run 4-1 --scale ci --trials 2 --out /tmp/4-1.json

A run never replaces a record (--overwrite does) and, at the paper's scale, starts only from
committed code (--allow-dirty runs anyway; the record says so). Exit codes: 0 done, 2 refused
(one line says why), 3 stopped by --max-minutes, 130/143 stopped by Ctrl-C/SIGTERM (at the next
evaluation, with a checkpoint for --resume; a second signal stops at once). The steps of a run are `lstm97.run.run`; this module only reads
the command line.
"""
from __future__ import annotations

import argparse
import ast
import signal
import sys

from . import backend, distribution, experiments, report, scale
from . import run as runner


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
    status = sub.add_parser("status", help="which paper-scale results are recorded, and the time the rest still needs")
    status.add_argument("--markdown", action="store_true",
                        help="print the status section of README.md and results/README.md, with its footnote")
    status.add_argument("--write", action="store_true",
                        help="write that section into README.md and results/README.md (after a run is recorded)")
    status.add_argument("--seeds", action="store_true",
                        help="the rows cheap enough for more seeds (seed 0 took at most 30 min): the seeds recorded "
                             "and the commands that run the others; then the thousand-trial distributions")
    run = sub.add_parser("run", help="run one experiment (one row of the paper's tables)")
    run.add_argument("experiment", help="e.g. 1-2, 2a, 2c-5, 3a-1, 4-3, 5-13, 6b (see `list`)")
    run.add_argument("--scale", choices=scale.SCALES, default=None, help="default: LSTM97_SCALE or book")
    run.add_argument("--trials", type=positive_int, help="independent trials (default: the paper's, reduced below paper scale)")
    run.add_argument("--max-sequences", type=positive_int, help="training budget per trial")
    run.add_argument("--backend", choices=backend.BACKENDS, default=None, help="default: LSTM97_BACKEND or numpy")
    run.add_argument("--engine", choices=runner.ENGINES, default="auto",
                     help="fast: the compiled CPU kernel; gpu: the GPU kernel, one CUDA thread per network; "
                          "reference: the NumPy/CuPy code of chapters 4-5; auto: gpu from "
                          "lstm97.gpu.GPU_MIN_NETWORKS trials on a visible GPU with the cupy backend, else fast where it can run "
                          "(the 1997 cell), else reference")
    run.add_argument("--seed", type=int, default=0, help="trial k's weights and data come from (seed, k) alone")
    run.add_argument("--eval-every", type=positive_int, default=None, help="sequences between evaluations")
    run.add_argument("--out", help="the record's file (default results/<scale>/<experiment>-seed<seed>.json, "
                                   "variants in results/<scale>/variants/)")
    run.add_argument("--overwrite", action="store_true", help="replace the record at --out if there is one")
    run.add_argument("--allow-dirty", action="store_true",
                     help="at the paper's scale, run even where the code under lstm97/ differs from its commit "
                          "(the record keeps the commit and a hash of the difference)")
    run.add_argument("--checkpoint-every", type=float, default=300.0,
                     help="seconds between checkpoints, written at evaluations (0: at every evaluation)")
    run.add_argument("--resume", action="store_true",
                     help="go on from the checkpoint beside --out; where there is none, say so and start afresh")
    run.add_argument("--max-minutes", type=float, default=None,
                     help="stop after this long, keeping the checkpoint (exit code 3); go on later with --resume")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--vary", action="append", type=change, default=[], metavar="KEY=VALUE",
                     help="run a variant: change a field of the net, of the protocol or of the task, e.g. "
                          "bias=all, update=sequence, targets=legal (repeatable; results/<scale>/variants/)")
    return p


def _print_rows(registry: dict) -> None:
    """One line per row of `registry` (`lstm97 list`), in columns as wide as its names and titles."""
    name_w = max(map(len, registry))
    title_w = max(len(p.title) for p in registry.values())
    for name, p in registry.items():
        print(f"{name:{name_w}s} {p.title:{title_w}s} {p.trials:3d} trials, lr {p.lr:g}, stop {p.stop!r}")


_signals: list[int] = []  # the signal that stopped a run, if one did


def _stopped(signum, frame):
    """Ctrl-C (SIGINT) and SIGTERM outside a run's training (which `run.run` handles: it stops at
    its next evaluation) end it at once, without a traceback."""
    _signals.append(signum)
    raise KeyboardInterrupt


def _run(args, argv) -> int:
    try:
        protocol = experiments.vary(experiments.get(args.experiment), dict(args.vary))
        scale.use(args.scale or scale.current())  # without --scale, a bad LSTM97_SCALE is an error here
        if args.backend:
            backend.use(args.backend)
        backend.xp()  # without --backend, a bad LSTM97_BACKEND is an error here
        out = runner.run(protocol, trials=args.trials, max_sequences=args.max_sequences, seed=args.seed,
                         engine=args.engine, eval_every=args.eval_every, out=args.out, resume=args.resume,
                         overwrite=args.overwrite, allow_dirty=args.allow_dirty, max_minutes=args.max_minutes,
                         checkpoint_every=args.checkpoint_every, progress=not args.quiet,
                         command=["python", "-m", "lstm97", *argv])
    except (ValueError, backend.BackendUnavailable) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:  # `run.Interrupted` says where the last checkpoint is
        signum = getattr(err, "signum", None) or (_signals[-1] if _signals else signal.SIGINT)
        print(f"{args.experiment}: stopped by {signal.Signals(signum).name}" + (f"; {err}" if str(err) else ""),
              file=sys.stderr)
        return 128 + signum
    run, name = out.run, out.protocol.name
    solved = f"{int(run.solved.sum())}/{run.trials} solved"
    if not out.finished:
        print(f"{name}: stopped after {args.max_minutes:g} min at {run.sequences[-1]:,} sequences ({solved}); "
              f"the checkpoint {out.checkpoint} goes on with --resume", file=sys.stderr)
        return 3
    print(f"{name}: {solved} in {run.wall_time:.1f} s; wrote {out.path}", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser().parse_args(argv)
    if args.command == "list":
        _print_rows(experiments.PROTOCOLS)
        print("\nThe paper's competitors (conventional nets, chapters 7 and 8):")
        _print_rows(experiments.COMPETITORS)
        return 0
    if args.command == "status":
        if args.seeds:
            for name, wall, have, commands in report.seed_plan():
                print(f"{name:16s} seed 0 took {report.duration(wall):>7s}; seeds {', '.join(map(str, have))}"
                      + "".join(f"\n    {c}" for c in commands))
            for name in distribution.ROWS:
                d = distribution.load(name)
                state = ("not run" if d is None else f"{d['status']}, {sum(s is not None for s in d['solved_after'])}"
                         f"/{d['trials']} solved after {d['seen']:,} sequences")
                print(f"{name:16s} distribution of {distribution.TRIALS} trials: {state}"
                      + ("" if d is not None and d["status"] == "finished" else f"\n    {distribution.command(name)}"))
        elif args.write:
            changed = report.write_status()
            print("updated " + ", ".join(map(str, changed)) if changed else "README.md and results/README.md are up to date")
        elif args.markdown:  # as README.md and results/README.md hold it
            sys.stdout.write(report.status_markdown())
        else:
            print(report.status_table(experiments.PROTOCOLS.values()) + "\n\nThe paper's competitors:\n\n"
                  + report.status_table(experiments.COMPETITORS.values()))
        return 0
    return _run(args, argv)


if __name__ == "__main__":
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _stopped)
    sys.exit(main())

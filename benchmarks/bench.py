"""How fast is one training step of the 1997 LSTM, and what does paper scale cost?

    python benchmarks/bench.py            # ≈ 6 minutes
    python benchmarks/bench.py --quick    # ≈ 1 minute, shorter timings
    python benchmarks/bench.py --gpu      # and the GPU kernel (lstm97.gpu) against the CPU kernel and torch
    python benchmarks/bench.py --against 23dfca5   # and the end-to-end runs with that commit's code (+ 2 min)

Measures, on this machine and in this run, network-steps per second of
  (a) the reference NumPy `LSTM.train_step` (lstm97/lstm.py + gradients.truncated),
  (b) the compiled `FastLSTM.train_step` (lstm97/fast.py),
  (c) torch.nn.LSTM + Linear, forward + backward by autograd + one SGD step per batch of
      sequences, CPU, 1 thread (if torch is installed; not the 1997 algorithm: a modern LSTM with
      a forget gate, full BPTT, and one network for the whole batch rather than B networks),
for the adding net (Table 10's 4-1, 93 weights, adding sequences of T = 100) and the 6b net
(308 weights, temporal-order sequences), at B = 1 and B = 100. Then it estimates the training
time of one trial of each experiment at paper scale from the network-step counts of
/work/shared/perf-anchors.md and the rates measured here for that experiment's net and task.
Last, end to end (`end_to_end`): a real run of rows 1-5, 2c-1, 4-1 and 6a, loop included, on one
and on two threads, beside the kernel alone on the same sequences and torch.nn.LSTM (and, with
--against REV, beside the same runs with the code of commit REV).

With --gpu, on a machine with a CUDA GPU: network-steps per second of the GPU kernel
(`GPULSTM.train_step`, sequence update) on the adding and 6b nets at B = 1 … 10^5, with NumPy
arrays (weights and sequences copied to the GPU and back at every call) and, with CuPy, with the
weights and sequences already on the GPU; beside the CPU kernel on all cores at the same B and
torch.nn.LSTM on the GPU (float32, one network for the batch). Without a GPU it says so.

A network-step is one time step of one network (or, for torch, of one sequence in the batch);
padded steps count, since every implementation computes them.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import os
import platform
import statistics
import sys
import time

import numpy as np

from lstm97 import experiments, streams, tasks, train
from lstm97.report import duration
from lstm97.experiments import ARCHITECTURES
from lstm97.lstm import LSTM

SEED = 0
LR = 0.1  # small, so the weights stay finite over many repeated steps


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def rate(step, batches, min_time: float, rounds: int = 3) -> float:
    """Network-steps per second of `step(batch)` over the batches: the median of `rounds`
    rounds, each repeating the batches until `min_time` seconds have passed."""
    step(batches[0])  # warm-up (and JIT compilation or cache load)
    rates = []
    for _ in range(rounds):
        work, start = 0, time.perf_counter()
        while True:
            for b in batches:
                step(b)
                work += b.y.shape[0] * b.y.shape[1]
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        rates.append(work / elapsed)
    return statistics.median(rates)


def learner_step(learner, B: int):
    theta = [learner.init(np.random.default_rng(SEED), B)]

    def step(batch):
        theta[0], _, _ = learner.train_step(theta[0], batch, LR)

    return step


def torch_step(config, B: int):
    import torch

    torch.manual_seed(SEED)
    lstm = torch.nn.LSTM(config.n_in, config.n_cells, batch_first=True)
    out = torch.nn.Linear(config.n_cells, config.n_out)
    opt = torch.optim.SGD(list(lstm.parameters()) + list(out.parameters()), lr=LR)
    cache = {}

    def step(batch):
        key = id(batch)
        if key not in cache:  # tensors made once per batch: the conversion is not timed
            cache[key] = (torch.as_tensor(batch.x, dtype=torch.float32),
                          torch.as_tensor(batch.y, dtype=torch.float32),
                          torch.as_tensor(batch.mask[..., None], dtype=torch.float32))
        x, d, m = cache[key]
        opt.zero_grad()
        h, _ = lstm(x)
        y = torch.sigmoid(out(h))
        loss = 0.5 * (m * (y - d) ** 2).sum()
        loss.backward()
        opt.step()

    return step


def on_device(batch, cupy):
    """The batch with its arrays on the GPU (CuPy), for timing the kernel without the copies."""
    return dataclasses.replace(batch, **{k: cupy.asarray(v) for k in ("y", "mask", "values", "symbols")
                                         if (v := getattr(batch, k)) is not None})


def gpu_step(learner, B: int, cuda):
    theta = [learner.init(np.random.default_rng(SEED), B)]

    def step(batch):
        theta[0], _, _ = learner.train_step(theta[0], batch, LR)
        cuda.synchronize()

    return step


def torch_gpu_step(config, B: int, torch):
    dev = torch.device("cuda")
    torch.manual_seed(SEED)
    lstm = torch.nn.LSTM(config.n_in, config.n_cells, batch_first=True).to(dev)
    out = torch.nn.Linear(config.n_cells, config.n_out).to(dev)
    opt = torch.optim.SGD(list(lstm.parameters()) + list(out.parameters()), lr=LR)
    cache = {}

    def step(batch):
        if id(batch) not in cache:  # tensors made once per batch: the copies are not timed
            cache[id(batch)] = [torch.as_tensor(a, dtype=torch.float32, device=dev)
                                for a in (batch.x, batch.y, batch.mask[..., None])]
        x, d, m = cache[id(batch)]
        opt.zero_grad()
        h, _ = lstm(x)
        loss = 0.5 * (m * (torch.sigmoid(out(h)) - d) ** 2).sum()
        loss.backward()
        opt.step()
        torch.cuda.synchronize()

    return step


def gpu_rows(min_time: float, torch) -> None:
    """The GPU kernel against the CPU kernel (all cores) and torch.nn.LSTM on the GPU."""
    print()
    try:
        from lstm97 import gpu
    except ImportError as err:
        print(f"GPU rows: none ({err})")
        return
    ok, why = gpu.available()
    if not ok:
        print(f"GPU rows: none ({why})")
        return
    from numba import cuda

    from lstm97 import backend
    from lstm97.fast import FastLSTM

    cupy = backend.use("cupy") if backend.gpu_available() else None
    backend.use("numpy")
    with_torch = torch is not None and torch.cuda.is_available()
    print(f"GPU: {gpu.device_name()}; numba-cuda kernel, {gpu.THREADS_PER_BLOCK} threads per block; "
          f"CuPy {cupy.__version__ if cupy else 'not installed'}; torch on the GPU: {'yes' if with_torch else 'no'}")
    print("Training step on the GPU (sequence update; the CPU kernel on all cores at the same B)")
    print(f"{'net':<28} {'B':>6}  {'implementation':<40} {'network-steps/s':>16} {'ns/network-step':>16}")
    for label, arch, task in (("adding net (4-1)", "4-1", tasks.make("4", T=100)), ("6b net", "6b", tasks.make("6b"))):
        config = ARCHITECTURES[arch]
        P = LSTM(config).n_params
        for B in (1, 100, 1_000, 10_000, 100_000):
            rng = np.random.default_rng(SEED)
            batches = [task.sample(rng, B) for _ in range(2 if B <= 1000 else 1)]
            impls = [("GPU kernel, NumPy arrays", gpu_step(gpu.GPULSTM(config), B, cuda), batches, "numpy")]
            if cupy is not None:
                impls.append(("GPU kernel, CuPy arrays", gpu_step(gpu.GPULSTM(config), B, cuda),
                              [on_device(b, cupy) for b in batches], "cupy"))
            impls.append(("FastLSTM (CPU, all cores)", learner_step(FastLSTM(config), B), batches, "numpy"))
            if with_torch:
                impls.append((f"torch.nn.LSTM on the GPU (hidden {config.n_cells}, float32)",
                              torch_gpu_step(config, B, torch), batches, "numpy"))
            for name, step, data, array_backend in impls:
                backend.use(array_backend)
                r = rate(step, data, min_time)
                backend.use("numpy")
                print(f"{label + f', {P} weights':<28} {B:>6}  {name:<40} {r:>16.3g} {1e9 / r:>16.1f}", flush=True)


def test_forward(learner, p, theta) -> float:
    """Seconds of the kernel's forward passes in one evaluation of a run of protocol `p`: every
    trial on its own test set, stacked and cut into calls as `evaluation.evaluate` does."""
    from lstm97 import evaluation

    task = p.make_task()
    tests = [task.for_trial(SEED, k).test_set(streams.trial_rngs(SEED, k)[2], p.test_size) for k in range(p.trials)]
    parts = [(theta[nets], b.symbols if b.symbols is not None else b.values, k, steps)
             for b, nets, k, _, steps, _ in evaluation.Stacked(tests, theta.shape[1]).parts]
    learner.forward_many(*parts[0])  # warm-up
    t0 = time.perf_counter()
    for part in parts:
        learner.forward_many(*part)
    return time.perf_counter() - t0


@contextlib.contextmanager
def spent_in(*methods):
    """Seconds spent inside each of `methods` ((class, name) pairs) while the block runs, timed
    by a wrapper put in their place for that while: {"Class.name": seconds}."""
    spent, kept = {f"{cls.__name__}.{name}": 0.0 for cls, name in methods}, []
    for cls, name in methods:
        inner, key = getattr(cls, name), f"{cls.__name__}.{name}"
        kept.append((cls, name, inner))

        def timed(*args, inner=inner, key=key, **kwargs):
            t0 = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[key] += time.perf_counter() - t0

        setattr(cls, name, timed)
    try:
        yield spent
    finally:
        for cls, name, inner in kept:
            setattr(cls, name, inner)


ROWS = ("1-5", "2c-1", "4-1", "6a")

# A real run of each of ROWS with the code of another commit, on all threads: its seconds, one line a
# row. Run in a worktree of that commit, with only what train.train took there and takes here.
AGAINST = """
import sys, time
from lstm97 import experiments, train
from lstm97.fast import FastLSTM
n, repeats = int(sys.argv[1]), int(sys.argv[2])
for name in sys.argv[3:]:
    p = experiments.get(name)
    learner = FastLSTM(p.config(), update=p.update)
    kw = dict(lr=p.lr, trials=p.trials, seed=0, test_size=p.test_size, stop=p.stop, progress=False)
    train.train(learner, p.make_task(), max_sequences=2, eval_every=1, **kw)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        train.train(learner, p.make_task(), max_sequences=n, eval_every=1000, **kw)
        best = min(best, time.perf_counter() - t0)
    print(name, best)
"""


def against(rev: str, n: int, repeats: int) -> dict:
    """{row: seconds} of `AGAINST` at commit `rev`, in a temporary git worktree (numba's cache of
    that code stays in it and goes with it)."""
    import subprocess
    import tempfile

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as tmp:
        tree = os.path.join(tmp, "tree")
        subprocess.run(["git", "-C", root, "worktree", "add", "--detach", "-q", tree, rev], check=True)
        try:
            out = subprocess.run([sys.executable, "-c", AGAINST, str(n), str(repeats), *ROWS], cwd=tree, check=True,
                                 capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=tree)).stdout
        finally:
            subprocess.run(["git", "-C", root, "worktree", "remove", "--force", tree], check=True)
    return {name: float(t) for name, t in (line.split() for line in out.splitlines())}


def end_to_end(torch, n: int, rev: str | None, repeats: int) -> None:
    """A real run against the kernel alone and torch.nn.LSTM, per row: `train.train` on the
    paper's protocol (all its trials, one evaluation per 1000 sequences as at paper scale), then
    `FastLSTM.train_many` alone on the same chunks of the same sequences, then torch on them;
    with `rev`, the same run with the code of commit `rev` (`against`)."""
    import numba

    from lstm97.fast import FastLSTM

    print("End to end: a real run (train.train on the row's protocol, all its trials, n sequences each, one")
    print("evaluation per 1000 sequences) against the kernel alone on the same chunks of the same sequences")
    print("(FastLSTM.train_many, as the run calls it), and torch.nn.LSTM (1 thread, float32, one batch of")
    print("`trials` sequences per step). Network-steps: the trained sequences' steps × trials; the run's")
    print("time also holds drawing the data, the stopping rule and the evaluations. Kernel share: the kernel's")
    print("training time over the run's (2 threads); + tests: with the kernel's forward passes over the test sets;")
    print("× 2 threads: the run's (or the kernel's) speed on two threads over one. A paper-scale run of these rows")
    print("trains 10^5 to 10^6 sequences per trial: its one-off costs (the test sets, the sittings' provenance) weigh")
    print("little there, and n = 10,000 keeps them small here too. Drawing: the run's time in Lockstep.next_many")
    print("(the task generators and the batch the kernel reads); evaluating: in Training.evaluate (the tests,")
    print("their forward passes included); both of the run on 2 threads. Each time: the fastest of 3 (1 with --quick).")
    print("The kernel is the one compiled for the row's topology (kernel.specialized), which a long run moves to")
    print("after fast.TIER_UP seconds; 'compile': its compilation, not in the times; 'generic': the kernel alone")
    print("before it (2 threads).")
    if rev:
        print(f"× {rev[:7]}: the run on 2 threads over the same run with the code of commit {rev} (a worktree")
        print("of it, this interpreter), measured in this run")
    rev_times = against(rev, n, repeats) if rev else {}
    print(f"{'row':<5} {'trials':>6} {'n':>5} {'steps/seq':>9} {'run, 1 thread':>13} {'run, 2 threads':>14}"
          f" {'× 2 threads':>11} {'kernel alone':>12} {'kernel share':>12} {'+ tests share':>15} {'kernel × 2':>10}"
          f" {'torch':>9} {'drawing':>8} {'evaluating':>10} {'generic':>9} {'compile':>7}"
          + (f" {'× ' + rev[:7]:>9}" if rev else "") + "   (network-steps/s; compile in s)")
    threads = numba.get_num_threads()
    for name in ROWS:
        p = experiments.get(name)
        learner = FastLSTM(p.config(), update=p.update, specialize=True)
        kw = dict(lr=p.lr, trials=p.trials, seed=SEED, test_size=p.test_size, stop=p.stop, progress=False)
        t0 = time.perf_counter()
        train.train(learner, p.make_task(), max_sequences=2, eval_every=1, **kw)  # compiles the kernel
        compiled = time.perf_counter() - t0
        runs = {}
        for t in sorted({1, min(2, threads)}):
            numba.set_num_threads(t)
            train.train(learner, p.make_task(), max_sequences=2, eval_every=1, **kw)  # warm-up
            for _ in range(repeats):  # the fastest of `repeats` runs, with its shares
                with spent_in((streams.Lockstep, "next_many"), (train.Training, "evaluate")) as spent:
                    t0 = time.perf_counter()
                    train.train(learner, p.make_task(), max_sequences=n, eval_every=1000, **kw)
                    took = time.perf_counter() - t0
                if took < runs.get(t, np.inf):
                    runs[t], parts = took, spent
        numba.set_num_threads(threads)
        task = p.make_task()
        lockstep = streams.Lockstep([streams.Stream(task.for_trial(SEED, k), streams.trial_rngs(SEED, k)[1])
                                     for k in range(p.trials)])
        chunks, active = [], np.arange(p.trials)
        while len(chunks) * streams.CHUNK < n:
            chunks.append(lockstep.next_many(active, streams.CHUNK))
        steps = sum(int(c.lengths.sum()) for c in chunks) * n / (len(chunks) * streams.CHUNK)
        theta = streams.initial_weights(learner, SEED, p.trials)
        learner.train_many(theta, chunks[0], streams.CHUNK, p.lr)  # warm-up
        def kernel_alone(net):
            """Seconds of `net.train_many` over the chunks, scaled to n sequences: the fastest of `repeats`."""
            best = np.inf
            for _ in range(repeats):
                t0, start = time.perf_counter(), theta
                for c in chunks:
                    start, _, _ = net.train_many(start, c, streams.CHUNK, p.lr)
                best = min(best, time.perf_counter() - t0)
            return best * n / (len(chunks) * streams.CHUNK)

        alone = {}
        for t in sorted({1, min(2, threads)}):
            numba.set_num_threads(t)
            alone[t] = kernel_alone(learner)
        numba.set_num_threads(threads)
        generic = FastLSTM(p.config(), update=p.update, specialize=False)
        generic.train_many(theta, chunks[0], streams.CHUNK, p.lr)  # warm-up
        generic_time = kernel_alone(generic)
        kernel = alone[max(alone)]
        tested = test_forward(learner, p, theta) * n / 1000  # the tests' forward passes, one per 1000 sequences
        best = runs[max(runs)]
        torch_rate = "—"
        if torch is not None:  # the same sequences, `trials` of them per batch (row j*CHUNK+s of chunk: trial j)
            batches = [c.take(np.arange(p.trials) * streams.CHUNK + s) for c in chunks[:2] for s in range(8)]
            torch_rate = f"{rate(torch_step(p.config(), p.trials), batches, 0.5, rounds=1):.3g}"
        drawn, evaluated = parts.values()  # of the fastest run on the most threads
        print(f"{name:<5} {p.trials:>6} {n:>5} {steps / n / p.trials:>9.0f} {steps / runs[1]:>13.3g}"
              f" {steps / best:>14.3g} {runs[1] / best:>11.2f} {steps / kernel:>12.3g} {kernel / best:>12.0%}"
              f" {(kernel + tested) / best:>15.0%} {alone[1] / kernel:>10.2f} {torch_rate:>9}"
              f" {drawn / best:>8.0%} {evaluated / best:>10.0%} {steps / generic_time:>9.3g} {compiled:>7.1f}"
              + (f" {rev_times[name] / best:>9.2f}" if rev else ""))
    print()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter timings (≈ 1 minute)")
    parser.add_argument("--gpu", action="store_true", help="add the GPU kernel's rows (needs a CUDA GPU)")
    parser.add_argument("--against", metavar="REV", help="also run the end-to-end rows with the code of commit REV "
                        "(latest.txt: 23dfca5, the loop before issue 25) and give the ratio")
    args = parser.parse_args(argv)
    min_time = 0.25 if args.quick else 1.5
    started = time.perf_counter()

    import numba

    from lstm97.fast import FastLSTM

    try:
        import torch

        torch.set_num_threads(1)
        torch_version = torch.__version__
    except ImportError:
        torch = None
        torch_version = "not installed"

    print(f"lstm97 benchmark, {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}"
          f"{' (--quick)' if args.quick else ''}")
    print(f"machine: {platform.platform()}; {cpu_model()}; {os.cpu_count()} CPUs; load average before the run "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min; other processes slow every row)")
    print(f"python {platform.python_version()}; numpy {np.__version__}; numba {numba.__version__} "
          f"({numba.get_num_threads()} threads); torch {torch_version}")

    t0 = time.perf_counter()
    probe = tasks.make("4", T=100).sample(np.random.default_rng(SEED), 2)
    FastLSTM(ARCHITECTURES["4-1"]).train_step(LSTM(ARCHITECTURES["4-1"]).init(np.random.default_rng(0), 2), probe, LR)
    FastLSTM(ARCHITECTURES["4-1"]).train_step(LSTM(ARCHITECTURES["4-1"]).init(np.random.default_rng(0), 1),
                                              probe.take(0), LR)
    print(f"FastLSTM compilation (or loading it from numba's cache): {time.perf_counter() - t0:.2f} s")
    print(f"threading layer: {numba.threading_layer()}")
    print()

    # ---------------------------------------------------------------- (a), (b), (c)
    nets = {"adding net (4-1)": ("4-1", tasks.make("4", T=100)),
            "6b net": ("6b", tasks.make("6b"))}
    rows, results = [], {}
    for label, (arch, task) in nets.items():
        config = ARCHITECTURES[arch]
        P = LSTM(config).n_params
        for B in (1, 100):
            rng = np.random.default_rng(SEED)
            batches = [task.sample(rng, B) for _ in range(8 if B == 1 else 2)]
            impls = {"NumPy LSTM": learner_step(LSTM(config), B),
                     "FastLSTM": learner_step(FastLSTM(config), B)}
            if B > 1:
                impls["FastLSTM, 1 thread"] = learner_step(FastLSTM(config, parallel=False), B)
            if torch is not None:
                impls[f"torch.nn.LSTM (hidden {config.n_cells}, float32)"] = torch_step(config, B)
            for name, step in impls.items():
                r = rate(step, batches, min_time)
                results[label, B, name] = r
                rows.append((f"{label}, {P} weights", B, name, r))

    print("Training step (forward + truncated gradient + update; torch: forward + autograd backward + SGD)")
    print(f"{'net':<28} {'B':>4}  {'implementation':<34} {'network-steps/s':>16} {'µs/network-step':>16}")
    for net, B, name, r in rows:
        print(f"{net:<28} {B:>4}  {name:<34} {r:>16.3g} {1e6 / r:>16.3f}")
    print()
    print("Speed-up of FastLSTM")
    for label in nets:
        for B in (1, 100):
            fast = results[label, B, "FastLSTM"]
            line = f"  {label}, B = {B:>3}: × {fast / results[label, B, 'NumPy LSTM']:.0f} over NumPy"
            tkey = [k for k in results if k[0] == label and k[1] == B and k[2].startswith("torch")]
            if tkey:
                line += f", × {fast / results[tkey[0]]:.1f} over torch.nn.LSTM"
            print(line)
    if torch is None:
        print("  torch.nn.LSTM: skipped, torch is not installed (pip install torch==2.13.0, a CPU wheel)")
    print()

    # ---------------------------------------------------------------- paper scale
    # (experiment, network-steps of one trial's training at paper scale (perf-anchors.md),
    #  Table 10 net, task, update mode)
    paper = [
        ("1 embedded Reber", 0.08e6, "1-2", tasks.make("1"), "step"),
        ("2a, p = 100", 0.5e6, "2a", tasks.make("2a"), "step"),
        ("2c, q = p = 1000", 49e6, "2c-5", tasks.make("2c", p=1000, q=1000), "sequence"),
        ("4 adding, T = 100", 8e6, "4-1", tasks.make("4", T=100), "sequence"),
        ("4 adding, T = 1000", 938e6, "4-3", tasks.make("4", T=1000), "sequence"),
        ("5 multiplication, T = 100", 53e6, "5", tasks.make("5", T=100), "sequence"),
        ("6b temporal order", 60e6, "6b", tasks.make("6b"), "sequence"),
    ]
    print("Estimated training time of one trial at paper scale (an estimate: the paper's network-step")
    print("counts from perf-anchors.md divided by the rates measured here at B = 1 on the experiment's")
    print("own net and sequences)")
    print(f"{'experiment':<27} {'weights':>7} {'network-steps':>13} {'NumPy µs/step':>13} {'fast µs/step':>12}"
          f" {'NumPy':>9} {'FastLSTM':>9}")
    fast_rates = []
    for name, work, arch, task, update in paper:
        config = ARCHITECTURES[arch]
        rng = np.random.default_rng(SEED)
        batches = [task.sample(rng, 1) for _ in range(4)]
        short = min_time / (3 if "1000" in name else 1)
        r_np = rate(learner_step(LSTM(config, update=update), 1), batches[:2], short / 2, rounds=1)
        r_fast = rate(learner_step(FastLSTM(config, update=update), 1), batches, short)
        fast_rates.append(r_fast)
        print(f"{name:<27} {LSTM(config).n_params:>7} {work:>13.3g} {1e6 / r_np:>13.2f} {1e6 / r_fast:>12.3f}"
              f" {duration(work / r_np):>9} {duration(work / r_fast):>9}")
    whole = 3.5e10
    typical = statistics.median(fast_rates)
    print(f"{'whole paper (trial counts)':<27} {'':>7} {whole:>13.3g} {'':>13} {1e6 / typical:>12.3f}"
          f" {'':>9} {duration(whole / typical):>9}")
    print("  (whole paper: at the median FastLSTM rate above, one core; trials batched B > 1 over the cores"
          " divide it by up to the number of free cores)")
    print()
    # ---------------------------------------------------------------- end to end
    end_to_end(torch, 3000 if args.quick else 10000, args.against, 1 if args.quick else 3)
    if args.gpu:
        gpu_rows(min_time, torch)
    print(f"benchmark wall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

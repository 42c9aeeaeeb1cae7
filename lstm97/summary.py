"""The preface's summary (and chapter 13's): one line per experiment of the paper, the paper's
result (quoted in `experiments.PROTOCOLS`) beside ours, read from the records. Nothing in it is
typed by hand."""
from __future__ import annotations

import numpy as np

from . import experiments, records
from .report import sequences_to_success

# The preface's summary: one line per experiment of the paper, rows of PROTOCOLS grouped.
GROUPS = (("1", "embedded Reber grammar", 7, ("1-1", "1-2", "1-3", "1-4", "1-5")),
          ("2a", "noise-free sequences, p = 100", 8, ("2a",)),
          ("2b", "no local regularities, p = 100", 8, ("2b",)),
          ("2c", "very long lags, q up to 1000", 8, tuple(f"2c-{i}" for i in range(1, 10))),
          ("3a–3c", "noise and signal on one channel", 9, ("3a-1", "3a-2", "3a-3", "3b-1", "3b-2", "3b-3", "3c-1", "3c-2")),
          ("4", "adding, T = 100, 500, 1000", 10, ("4-1", "4-2", "4-3")),
          ("5", "multiplication, T = 100", 11, ("5-140", "5-13")),
          ("6a, 6b", "temporal order", 12, ("6a", "6b")),
          # Part IV: not of the 1997 paper; the paper's column is Gers et al. (2000)
          ("CERG", "continual embedded Reber grammar, forget gates (Gers et al. 2000)", 14, ("cerg-forget",)),
          ("CERG", "the same, 1997 cell without resets", 14, ("cerg-1997",)),
          # chapter 15: one change at a time, on a shortened temporal order task; no paper result
          *(("6a, short", f"temporal order, 14–16 steps: {what}", 15, (name,))
            for name, what in (("iv-1997", "1997 cell"), ("iv-forget", "+ forget gates"),
                               ("iv-peepholes", "+ peepholes"), ("iv-bptt", "+ full gradient"),
                               ("iv-minibatch", "+ minibatches of 4"))))


def _span(values, fmt="{:,}") -> str:
    lo, hi = min(values), max(values)
    return fmt.format(lo) if lo == hi else f"{fmt.format(lo)}–{fmt.format(hi)}"


def paper_summary(protocols) -> str:
    """The paper's result for a group of rows, from the numbers quoted in the protocols."""
    if not any(p.paper for p in protocols):
        return "— (not in a paper)"
    rates = [p.paper["success_rate"] for p in protocols if "success_rate" in p.paper]
    trials = {p.trials for p in protocols}
    if rates and len(rates) == len(protocols):
        head = f"{_span([round(100 * r) for r in rates], '{}')} % of {_span(list(trials), '{}')} trials"
        if any(p.paper.get("from_memory") for p in protocols):
            head += " (from memory, unconfirmed)"
    else:
        head = "solved"
    afters = [p.paper["success_after"] for p in protocols if "success_after" in p.paper]
    if len(afters) == 2 and len(protocols) == 2:
        return f"{head}, after {afters[0]:,} and {afters[1]:,} sequences"
    return f"{head}, after {_span(afters)} sequences" if afters else head


def ours_summary(protocols, rows) -> str:
    """Our result for a group of rows: finished rows pooled, rows in progress and pending counted."""
    done = [(p, r) for p, r in zip(protocols, rows) if r["status"] == "finished"]
    going = [(p, r) for p, r in zip(protocols, rows) if r["status"] == "in progress"]
    parts = []
    if done:
        # like the paper's column: the range of the rows' means (over their solved trials)
        per_row = [sequences_to_success(p, r["solved_after"]) for p, r in done]
        means = [round(float(np.mean(s))) for s in per_row if s]
        total = sum(r["trials"] for _, r in done)
        which = done[0][0].name if len(done) == 1 else f"{len(done)} rows"
        text = f"{which}: {sum(map(len, per_row))}/{total} trials solved"
        if means:
            text += f", after {_span(means)} sequences" + (" (mean)" if len(means) == 1 else " (rows' means)")
        parts.append(text)
    for p, r in going:
        k = sum(s is not None for s in r["solved_after"])
        parts.append(f"{p.name} in progress: {k}/{r['trials']} solved after {r['seen']:,}")
    pending = [p.name for p, r in zip(protocols, rows) if r["status"] == "pending"]
    if pending:
        parts.append(("pending: " + ", ".join(pending)) if len(pending) <= 3 else f"{len(pending)} rows pending")
    return "; ".join(parts)


def table(scale_name: str = "paper", folder=records.FOLDER) -> str:
    """The preface's "Reproduction summary" (and chapter 13's): a Markdown table with one line per
    experiment — the paper's result (quoted in `experiments.PROTOCOLS`) beside ours, read from
    the result files and checkpoints under `folder/scale_name`. Nothing in it is typed by hand."""
    lines = ["| experiment | task | paper: LSTM result | this book, paper scale | chapter |", "|---|---|---|---|---|"]
    for label, task, chapter, names in GROUPS:
        protocols = [experiments.get(n) for n in names]
        rows = [records.recorded(n, scale_name, folder=folder) for n in names]
        lines.append(f"| {label} | {task} | {paper_summary(protocols)} | {ours_summary(protocols, rows)} | {chapter} |")
    return "\n".join(lines)

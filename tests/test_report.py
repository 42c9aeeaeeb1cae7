"""What the book shows from the records (`report`): the paper's count of sequences to success,
the status and the time left, the preface's summary, ablations and Fisher tests, and the status
sections of README.md and results/README.md, generated."""
import json

import numpy as np
import pytest

from lstm97 import distribution, experiments, intervals, records, report, summary
from test_records import make_folder



@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_folder(tmp_path_factory.mktemp("results"))


def test_experiment_2_counts_the_sequences_before_the_window():
    """2a/2b/2c: success is 10,000 successive correct sequences, and `solved_after` counts to the
    end of them; the paper's count (its 2a mean, 5,040, is below 10,000) cannot include them."""
    for name in ("2a", "2b", "2c-1", "2c-9"):
        assert report.window_counted(experiments.get(name)) == 10_000
        assert report.sequences_to_success(experiments.get(name), [15_000, None, 10_000]) == [5_000, 0]
    for name in ("1-1", "3a-1", "4-1", "5-13", "6a"):
        assert report.window_counted(experiments.get(name)) == 0
        assert report.sequences_to_success(experiments.get(name), [15_000, None]) == [15_000]
    assert report.sequences_to_success(experiments.get("4-1"), None) == []


def test_summary_table_reads_every_group_from_the_files(folder):
    table = summary.table(folder=folder)
    lines = table.splitlines()
    assert len(lines) == 2 + len(summary.GROUPS)
    named = [n for _, _, _, names in summary.GROUPS for n in names]
    assert sorted(named) == sorted(experiments.PROTOCOLS), "every row of the paper's tables is in one group"
    adding = next(line for line in lines if line.startswith("| 4 |"))
    assert "4-1: 1/2 trials solved, after 250 sequences (mean)" in adding
    assert "4-2 in progress: 0/2 solved after 100" in adding and "pending: 4-3" in adding
    assert "74,000–853,000" in adding, "the paper's numbers come from the protocols"
    assert "pending: 2b" in table and "| 9 rows pending | 8 |" in table and "| 8 rows pending | 9 |" in table
    assert "100 % of 18 trials, after 5,040 sequences" in table


def test_the_preface_computes_its_summary_from_the_files():
    """One source of truth: the preface's table is `summary.table()`'s output, not typed text."""
    book = records.ROOT / "book"
    assert not (book / "intro.md").exists(), "the preface is book/intro.ipynb; a second copy would drift"
    cells = json.loads((book / "intro.ipynb").read_text())["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    prose = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert any("summary.table()" in c for c in code)
    assert "| experiment |" not in prose and "not yet run" not in prose


def test_time_left_is_network_steps_over_the_measured_speed(folder):
    """A pending row is costed at its family's measured speed (network-steps per second), from the
    paper's mean to the whole budget; a row in progress at its own speed, from where it stopped."""
    rows = {n: records.recorded(n, folder=folder) for n in ("4-1", "4-2", "4-3")}
    speeds = report.measured_speeds(rows)
    p1, p3 = experiments.get("4-1"), experiments.get("4-3")
    own = report.network_steps(p1, 300, 2) / rows["4-1"]["wall_time"]
    assert speeds["4"] == pytest.approx((own + report.network_steps(experiments.get("4-2"), 100, 2)
                                         / rows["4-2"]["wall_time"]) / 2)
    low, high = report.time_left(p3, rows["4-3"], speeds)
    assert low == pytest.approx(10 * 853_000 * report.mean_length(p3) / speeds["4"])
    assert high == pytest.approx(low * 5_000_000 / 853_000)
    assert report.time_left(p1, rows["4-1"], speeds) == (0.0, 0.0)
    p2, r2 = experiments.get("4-2"), rows["4-2"]
    speed2 = report.network_steps(p2, 100, 2) / r2["wall_time"]
    unsolved = sum(s is None for s in r2["solved_after"])  # the command line freezes solved trials
    assert report.time_left(p2, r2, speeds)[1] == pytest.approx(report.network_steps(p2, 5_000_000 - 100, unsolved)
                                                                 / speed2)
    # a run that froze its solved trials is measured by what it trained, not trials × sequences
    frozen = r2 | {"trained": 150, "solved_after": [50, None]}
    assert report.time_left(p2, frozen, speeds)[1] == pytest.approx(
        report.network_steps(p2, 5_000_000 - 100, 1) / (report.network_steps(p2, 150, 1) / r2["wall_time"]))
    assert report.time_left(p3, rows["4-3"], {}) is None
    table = report.status_table([p1, p3], folder=folder)
    assert "| 4-1 |" in table and "| 4-3 |" in table and "pending" in table and "unknown" not in table


def test_estimated_says_the_time_left_as_a_range(folder):
    """The chapters' tables show `time_left` one way: "est." and the range, or why there is none."""
    rows = {n: records.recorded(n, folder=folder) for n in ("4-1", "4-2", "4-3")}
    speeds = report.measured_speeds(rows)
    p3 = experiments.get("4-3")
    low, high = report.time_left(p3, rows["4-3"], speeds)
    assert report.estimated(p3, rows["4-3"], speeds) == f"est. {report.duration(low)} – {report.duration(high)}"
    p2 = experiments.get("4-2")   # in progress at 100 sequences, its own speed; the paper's mean is 209,000
    assert report.estimated(p2, rows["4-2"], speeds).startswith("est. ") and "up to" not in report.estimated(
        p2, rows["4-2"], speeds)
    past = rows["4-2"] | {"seen": 500_000}            # past the paper's mean: only the budget bounds it
    assert report.estimated(p2, past, speeds).startswith("est. up to ")
    assert report.estimated(experiments.get("4-1"), rows["4-1"], speeds) == "—"
    assert report.estimated(p3, rows["4-3"], {}) == "unknown (no recorded speed)"
    assert report.recorded_speeds(folder=folder) == pytest.approx(speeds), "every row read, 4-x the only recorded"


def test_competitors_borrow_no_lstm_speed_and_without_a_paper_mean_are_bounded_by_the_budget():
    p10, p4 = experiments.get("2a-rtrl-p10"), experiments.get("2a-rtrl-p4")
    pending = {"status": "pending", "seen": None, "wall_time": None}
    lstm_only = {"2ab": 1e6, None: 1e6}
    assert report.time_left(p10, pending, lstm_only) is None, "an LSTM's speed says nothing of RTRL's"
    assert report.family(p10) == report.family(p4) != report.family(experiments.get("2a-bptt-p100"))
    own = {report.family(p10): 1e6}
    low, high = report.time_left(p10, pending, own)   # the paper gives no mean for p = 10: the budget bounds it
    assert low == high and report.estimated(p10, pending, own) == f"est. up to {report.duration(high)}"
    assert " – " in report.estimated(p4, pending, own)


def test_part_iv_rows_quote_gers_and_borrow_no_speed(folder):
    """The CERG rows (chapter 14) quote Gers et al. 2000, the 1997 cell's 0 % marked as from memory;
    the compiled 1997 cell's speeds say nothing of a later variant's cost on the reference."""
    table = summary.table(folder=folder)
    assert "| 18 % of 100 trials | pending: cerg-forget | 14 |" in table
    assert "0 % of 100 trials (from memory, unconfirmed) | pending: cerg-1997" in table
    speeds = {"4": 1e6, None: 1e6}
    p = experiments.get("cerg-forget")
    assert report.time_left(p, records.recorded("cerg-forget", folder=folder), speeds) is None


def test_an_ablation_compares_each_variant_with_its_row_trial_by_trial(folder):
    data = records.load(folder / "paper" / "4-1-seed0.json")
    data["experiment"], data["run"]["solved_after"] = "4-1+lr=0.1", [None, 200]
    records.write(folder / "paper" / "variants" / "4-1+lr=0.1-seed0.json", data)
    table, counts = report.ablation(["4-1"], [("lr=0.1", "a larger step", "departs"), ("bias=all", "biases", "departs")],
                                     folder=folder)
    assert counts == {("4-1", "none"): 1, ("4-1", "lr=0.1"): 1}
    lines = table.splitlines()
    assert "| 1 of 2 | 1 | 200 (200–200) | 1 / 1 / 0 |" in lines[3]          # the row solved trial 0, the variant 1
    assert lines[4].startswith("| 4-1 | biases | departs | not run |")
    _, counts = report.ablation(["4-1"], [], budget=200, folder=folder)
    assert counts == {("4-1", "none"): 0}, "the row's trial 0 solved after 250 > 200 sequences"
    with pytest.raises(AssertionError):
        report.ablation(["4-1"], [("lr=0.1", "a larger step", "departs")], budget=200, folder=folder)


def test_fisher_exact_test_and_spread():
    # 0 of 3 against 3 of 3: the two most uneven splits of 3 solved among 6 trials, 1/20 each
    assert report.fisher(0, 3, 3) == pytest.approx(0.1)
    assert report.fisher(3, 0, 3) == pytest.approx(0.1)
    assert report.fisher(1, 2, 3) == pytest.approx(1.0) and report.fisher(7, 7, 30) == pytest.approx(1.0)
    assert report.fisher(5, 15, 30) < 0.05 < report.fisher(5, 11, 30)
    assert report.spread([3_000, 1_000, 20_000]) == "3,000 (1,000–20,000)" and report.spread([]) == "—"


def test_the_status_sections_are_generated_from_the_records():
    """README.md and results/README.md hold `report.status_markdown()`'s output as it is now: a
    finished row changes them through `python -m lstm97 status --write`, never by hand."""
    status = report.status_markdown()
    for readme in report.STATUS_FILES:
        found = [m[2] for m in report.STATUS_BLOCK.finditer(readme.read_text())]
        assert found == [status], f"{readme}: regenerate with python -m lstm97 status --write"


def test_writing_the_status_changes_only_the_generated_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# title\n\n<!-- status: generated by python -m lstm97 status --write -->\nold\n"
                      "<!-- end status -->\n\nmore prose\n")
    assert report.write_status([readme]) == [readme]
    assert readme.read_text() == ("# title\n\n<!-- status: generated by python -m lstm97 status --write -->\n"
                                  + report.status_markdown() + "<!-- end status -->\n\nmore prose\n")
    assert report.write_status([readme]) == []


def test_rows_run_before_solved_trials_stopped_training_are_marked(folder):
    table = report.status_table([experiments.get("4-1")], folder=folder)
    assert "†" not in table, "4-1 here froze its solved trials"
    data = records.load(records.path("4-1", folder=folder))
    del data["run"]["freeze_solved"], data["run"]["trained"]
    records.write(folder / "old" / "4-1-seed0.json", data)
    assert "fast, " in (old := report.status_table([experiments.get("4-1")], "old", folder)) and "†)" in old
    assert "comparable" in report.FROZEN_NOTE


def test_a_checkpoints_extra_test_is_measured_by_the_report(folder):
    row = records.recorded("4-2", folder=folder)
    tested = report.extra_tested(row)
    assert tested["fraction_wrong"] == [None, None], "no trial solved, so no extra test"
    finished = records.recorded("4-1", folder=folder)
    assert report.extra_tested(finished) is finished, "a record's own extra test, as recorded"


def test_table_sets_ours_beside_the_papers_row_by_row(folder):
    rows = {n: records.recorded(n, folder=folder) for n in ("4-1", "4-2", "4-3")}
    solved = (lambda p: p.paper["success_after"], lambda p, r: report.sequences_to_success(p, r["solved_after"]))
    table = report.table(list(rows), [("success after", *solved)], rows, {"4": 1e6},
                         describe=(("T", lambda p: p.task_params["T"]),))
    lines = table.splitlines()
    assert lines[0] == "| row | T | success after: paper | ours | solved | verdict | runtime |" and lines[1].count("---") == 7
    # one trial solved after 250, the other censored at the budget: the median over both is past it
    assert lines[2].startswith("| 4-1 | 100 | 74,000 | 250 [250–250]; median > 300 [250, > 300]; 250–250 | 1/2 [1–99 %] | faster | ")
    assert lines[3].startswith("| 4-2 | 500 | 209,000 | none yet | in progress: 0/2 after 100 sequences | — | est. ")
    assert lines[4].startswith("| 4-3 | 1000 | 853,000 | pending | pending | — | est. ")
    assert table.endswith(f"\n\n*{intervals.KEY}*") and "verdict" not in report.table(list(rows), [("success after", *solved)], rows, {}, key=False).split("|\n")[-1]


def test_a_further_seed_shows_in_the_status_without_typing(tmp_path):
    """A row run again with another seed is found and shown beside seed 0: recording it is enough."""
    root = make_folder(tmp_path)
    seed0 = records.path("4-1", folder=root)
    for suffix in (".json", ".curves.npz"):
        data = seed0.with_suffix(suffix) if suffix == ".json" else records.curves_file(seed0)
        target = records.path("4-1", 3, folder=root)
        target = target if suffix == ".json" else records.curves_file(target)
        target.write_bytes(data.read_bytes())
    assert records.seeds("4-1", folder=root) == [0, 3] and records.seeds("4-2", folder=root) == []
    table = report.status_table([experiments.get("4-1")], folder=root)
    assert "1/2 solved, median 250 (fast" in table and "; seed 3: 1/2 solved, median 250 |" in table


def test_the_status_says_once_how_experiment_2_is_counted():
    status = report.status_markdown()
    assert status.count(report.WINDOW_NOTE) == 1 and "10,000" in report.WINDOW_NOTE
    two_a = experiments.get("2a")
    assert f"({two_a.paper['success_after']:,})" in report.WINDOW_NOTE, "the paper's number, from the protocol"


def test_tables_pool_a_rows_seeds_as_more_trials(tmp_path):
    """Seeds are more trials of the same row: the tables' intervals, verdict and extra test pool them;
    a seed run to another budget is refused, not mixed in."""
    root = make_folder(tmp_path)
    seed0 = records.path("4-1", folder=root)
    d = json.loads(seed0.read_text())
    d["run"]["solved_after"], d["protocol"]["seed"] = [120, 180], 1
    d["result"]["fraction_wrong"] = [0.5, 0.25]
    records.path("4-1", 1, folder=root).write_text(json.dumps(d))
    records.curves_file(records.path("4-1", 1, folder=root)).write_bytes(records.curves_file(seed0).read_bytes())
    row = records.recorded("4-1", folder=root)
    both = report.pooled(row)
    assert both["seeds"] == [0, 1] and both["trials"] == 4 and both["solved_after"] == row["solved_after"] + [120, 180]
    assert both["fraction_wrong"][2:] == [0.5, 0.25] and both["wall_time"] == 2 * row["wall_time"]
    s, verdict = report.judged(experiments.get("4-1"), row)
    assert (s.solved, s.trials) == (3, 4) and s.mean == pytest.approx((250 + 120 + 180) / 3) and verdict == "faster"
    mean_wrong = ("wrong", lambda p: 1, lambda p, r: f"{np.mean([v for v in r['fraction_wrong'] or [] if v is not None] or [np.nan]):.3f}")
    to_success = ("after", lambda p: 74_000, lambda p, r: report.sequences_to_success(p, r["solved_after"]))
    line = report.table(["4-1"], [to_success, mean_wrong], {"4-1": row}, {}, key=False).splitlines()[2]
    assert row["fraction_wrong"] is None, "seed 0 has no extra test: its trials enter as not tested"
    assert "| 3/4 [" in line and "(seeds 0, 1)" in line and "| 0.375 |" in line
    assert line.split(" | ")[2].startswith(f"{(250 + 120 + 180) / 3:,.0f} [")
    d["run"]["max_sequences"] = 999
    records.path("4-1", 1, folder=root).write_text(json.dumps(d))
    with pytest.raises(ValueError, match="different budgets"):
        report.pooled(records.recorded("4-1", folder=root))


def test_the_seed_plan_lists_cheap_rows_and_the_commands_for_their_missing_seeds(tmp_path, capsys):
    root = make_folder(tmp_path)
    plan = {name: (have, commands) for name, _, have, commands in report.seed_plan(folder=root)}
    assert plan["4-1"] == ([0], [f"python -m lstm97 run 4-1 --scale paper --seed {k} --resume" for k in report.MORE_SEEDS])
    assert "4-2" not in plan, "a row whose seed 0 is not finished waits"
    seed0 = records.path("4-1", folder=root)
    records.path("4-1", 1, folder=root).write_bytes(seed0.read_bytes())
    records.curves_file(records.path("4-1", 1, folder=root)).write_bytes(records.curves_file(seed0).read_bytes())
    plan = {name: (have, commands) for name, _, have, commands in report.seed_plan(folder=root)}
    assert plan["4-1"] == ([0, 1], ["python -m lstm97 run 4-1 --scale paper --seed 2 --resume"])
    from lstm97.__main__ import main
    assert main(["status", "--seeds"]) == 0
    out = capsys.readouterr().out
    assert all(f"{n:16s} distribution of" in out for n in distribution.ROWS)

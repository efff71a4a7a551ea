"""Sweeps and compare: grid expansion and names (pure), then a real 2-run sweep through the CLI.

The real sweep checks what a user relies on: runs share the weak supervisor, its labels and the
ceiling; each run has complete results and an offline wandb run in the sweep's group with the
sweep's tags; `oversight compare` prints the table and writes the PNGs.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
import yaml
from cluster_helpers import ROOT, TINY, oversight, sweep_run, wandb_record

from oversight.errors import ConfigError
from oversight.sweep import axis_labels, expand, load_run_config, load_sweep


def write_sweep(path: Path, **fields) -> Path:
    path.write_text(yaml.safe_dump({"name": "tiny", "base": str(ROOT / "configs" / "w2s_default.yaml"), **fields}, sort_keys=False))
    return path


def test_expansion_is_a_stable_readable_grid(tmp_path):
    sweep_file = write_sweep(tmp_path / "s.yaml", seeds=[0, 1], grid={
        "pair": [{"weak.model.model": "minilm-l3", "strong.model.model": "mpnet-base"},
                 {"weak.model.model": "minilm-l6", "strong.model.model": "mpnet-base"}],
        "w2s.student.loss.name": ["xent", "logconf", "product"]})
    sweep = load_sweep(sweep_file)
    runs = expand(sweep)
    assert [r.name for r in runs] == [r.name for r in expand(sweep)]  # stable
    assert len(runs) == 6 and len({r.name for r in runs}) == 6
    assert re.fullmatch(r"tiny__pair=minilm-l3_mpnet-base__loss\.name=xent-[0-9a-f]{6}", runs[0].name)
    assert re.fullmatch(r"tiny__pair=minilm-l6_mpnet-base__loss\.name=product-[0-9a-f]{6}", runs[5].name)
    pilot = expand(load_sweep(sweep_file, ["seeds=[0]"]))  # a pilot never shares a run directory with the full sweep
    assert not {r.name for r in pilot} & {r.name for r in runs}
    moved = expand(load_sweep(sweep_file, ["out_dir=elsewhere", "wandb.mode=offline"]))  # where and how it logs: same runs
    assert [r.name for r in moved] == [r.name for r in runs]
    assert {"seeds=[0,1]", "weak.model.model=minilm-l6", "strong.model.model=mpnet-base", "w2s.student.loss.name=product",
            "wandb.group=tiny", f"name={runs[5].name}"} <= set(runs[5].overrides)


def test_axis_labels_grow_only_to_tell_axes_apart():
    labels = axis_labels(["weak.model.model", "strong.model.model", "w2s.student.loss.name", "seeds"])
    assert labels == {"weak.model.model": "weak.model.model", "strong.model.model": "strong.model.model",
                      "w2s.student.loss.name": "loss.name", "seeds": "seeds"}


def test_bad_sweep_files_name_the_problem(tmp_path):
    with pytest.raises(ConfigError, match="unknown sweep key 'gird'"):
        load_sweep(write_sweep(tmp_path / "a.yaml", gird={"seeds": [[0]]}))
    with pytest.raises(ConfigError, match="slurm.time_minutes"):
        load_sweep(write_sweep(tmp_path / "b.yaml", slurm={"time_minutes": 5}))
    bad_key = oversight("sweep", str(write_sweep(tmp_path / "c.yaml", grid={"weak.modle": [1]})), "--dry-run", check=False)
    assert bad_key.returncode == 2 and "unknown config key 'weak.modle'" in bad_key.stderr


def test_dry_run_prints_the_example_sweeps():
    shown = oversight("sweep", "configs/sweeps/w2s_losses.yaml", "--dry-run").stdout
    assert "sweep w2s_losses: 3 runs" in shown
    for loss in ("xent", "logconf", "product"):
        assert f"w2s_losses__loss.name={loss}" in shown
    assert "4 runs" in oversight("sweep", "configs/sweeps/w2s_weak_sizes.yaml", "--dry-run").stdout


@pytest.mark.parametrize("path", sorted((ROOT / "configs" / "sweeps").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_sweep_expands_to_valid_configs(path):
    """What `--dry-run` checks, for each file in configs/sweeps: every grid point's config loads and validates."""
    sweep = load_sweep(path)
    runs = expand(sweep)
    assert runs and all(load_run_config(sweep, run) is not None for run in runs)


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    sweep = write_sweep(out / "tiny.yaml", seeds=[0], out_dir=str(out / "runs"), overrides=[*TINY[:-4], *TINY[-3:], "wandb.mode=offline"],
                        grid={"w2s.student.loss.name": ["xent", "logconf"]})
    result = oversight("sweep", str(sweep))
    return out / "runs", sweep, result


def test_sweep_runs_share_stages_and_finish(swept):
    runs_dir, _, result = swept
    second = result.stdout.split("=== [2/2]")[1]
    reused = [line.split()[2] for line in second.splitlines() if " reused " in line]
    assert reused == ["weak", "labels", "ceiling"]  # one supervisor and ceiling serve both students
    assert len(list((runs_dir / "_stages" / "weak").glob("*[!.lock]"))) == 1
    for loss in ("xent", "logconf"):
        results = json.loads((sweep_run(runs_dir, f"tiny__loss.name={loss}") / "results.json").read_text())
        assert results["complete"] and set(results["summary"]) >= {"weak_acc", "student_acc", "ceiling_acc", "pgr"}


def test_sweep_runs_share_a_wandb_group_and_tags(swept):
    runs_dir, _, _ = swept
    keys = []
    for loss in ("xent", "logconf"):
        record = wandb_record(sweep_run(runs_dir, f"tiny__loss.name={loss}"))
        assert record["state"] == "finished" and record["config"]["wandb"]["group"] == "tiny" and record["job_type"] == "w2s"
        assert {"w2s", f"loss:{loss}", "pair:minilm-l6->minilm-l6", "sweep:tiny"} <= set(record["tags"])
        assert {"weak_acc", "student_acc", "ceiling_acc"} <= set(record["summary"])  # (a NaN PGR is not stored)
        keys.append({k for k in record["summary"] if not k.startswith("_") and "/" not in k})
    assert keys[0] == keys[1]  # the same result keys, so the dashboard lines them up (stage logs differ: reused)
    table_run = wandb_record(runs_dir / "_compare" / "tiny")
    assert "sweep_transfer_table" in table_run["summary"] and "sweep:tiny" in table_run["tags"] and table_run["job_type"] == "compare"


def test_compare_prints_the_table_and_writes_plots(swept):
    runs_dir, sweep, _ = swept
    for target in ("tiny", str(runs_dir)):
        shown = oversight("compare", target, "--out-dir", str(runs_dir)).stdout
        assert "weak_acc" in shown and "pgr" in shown and "tiny__loss.name=logconf" in shown
        out = runs_dir / "_compare" / ("tiny" if target == "tiny" else runs_dir.name)
        for png in ("pgr.png", "accuracy.png"):
            assert (out / png).stat().st_size > 1000
        # the two runs differ in loss, not model size: no size plot joins them
        assert not (out / "pgr_vs_strong_size.png").exists() and not (out / "pgr_vs_weak_size.png").exists()
        assert len(json.loads((out / "compare.json").read_text())) == 2
    rows = list(csv.DictReader((out / "compare.csv").open()))
    assert {r["loss"] for r in rows} == {"xent", "logconf"} and {r["protocol"] for r in rows} == {"w2s"}
    for r in rows:  # numbers, not "0.788 ± 0.046"; per-seed columns; an undefined PGR is an empty cell
        float(r["weak_acc_mean"]), float(r["weak_acc_ci_lo"]), float(r["student_acc_seed0"])
        assert r["n_seeds"] == "1" and (r["pgr_mean"] == "" or float(r["pgr_mean"]) == float(r["pgr_mean"]))
    latex = oversight("compare", "tiny", "--out-dir", str(runs_dir), "--format", "latex").stdout
    assert "\\begin{tabular}" in latex and "\\toprule" in latex and "tiny\\_\\_loss.name=xent" in latex
    assert (out.parent / "tiny" / "compare.md").read_text().startswith("| run | protocol | dataset |")
    shown = oversight("show", sweep_run(runs_dir, "tiny__loss.name=xent").name, "--out-dir", str(runs_dir)).stdout
    assert "per seed" in shown and "student_acc" in shown
    (runs_dir / "half-done").mkdir()
    assert "not shown, no complete results.json: half-done" in oversight("compare", str(runs_dir)).stdout
    rerun = oversight("sweep", str(sweep))
    assert rerun.stdout.count("finished, skipped") == 2  # finished runs are not recomputed
    from oversight.experiment import run_directory
    from oversight.sweep import is_finished, load_run_config

    loaded = load_sweep(str(sweep))
    exp = load_run_config(loaded, expand(loaded)[0])
    saved = run_directory(exp) / "config.yaml"
    text = saved.read_text()
    saved.write_text("".join(line for line in text.splitlines(keepends=True) if "cpu_bf16" not in line))
    assert is_finished(exp)  # saved before an opt-in field existed: the same run
    saved.write_text(text.replace("lr: ", "lr: 9", 1))
    assert not is_finished(exp)  # a setting that changes results differs: not this run
    saved.write_text(text)


def test_compare_of_nothing_is_a_one_line_error(tmp_path):
    result = oversight("compare", "no_such_sweep", "--out-dir", str(tmp_path), check=False)
    assert result.returncode == 2 and "neither a runs directory nor a sweep" in result.stderr


def test_command_line_overrides_win_over_the_sweep_file_in_any_position(tmp_path):
    from oversight.sweep import load_run_config, sweep_out_dir

    path = write_sweep(tmp_path / "s.yaml", seeds=[0, 1, 2], out_dir=str(tmp_path / "file-out"),
                       overrides=["split.test=900"], grid={"w2s.student.loss.name": ["xent", "logconf"]})
    cli_out = tmp_path / "cli-out"
    for args in (["--dry-run", "seeds=[0]", f"out_dir={cli_out}"], ["seeds=[0]", "--dry-run", f"out_dir={cli_out}"]):
        shown = oversight("sweep", str(path), *args).stdout
        assert "2 runs" in shown and shown.count("seeds=[0]") == 2
    sweep = load_sweep(path, ["seeds=[0]", f"out_dir={cli_out}", "split.test=500"])
    assert sweep_out_dir(sweep) == cli_out  # where the manifest and compare look
    for run in expand(sweep):
        exp = load_run_config(sweep, run)
        assert (exp.run.seeds, exp.run.out_dir, exp.run.split.test) == ([0], str(cli_out), 500)


def test_the_size_plot_joins_runs_of_one_training_mode_only(tmp_path):
    from oversight import plots
    from oversight.compare import RunSummary

    def run(strong: str, mode: str, pgr: float) -> RunSummary:
        return RunSummary(f"{strong}-{mode}", "w2s", "d", "minilm-l3", strong, "xent", [0, 1, 2], 0.5,
                          {"pgr": {"mean": pgr, "lo": pgr - 0.1, "hi": pgr + 0.1}}, tmp_path, strong_mode=mode)

    path = tmp_path / "pgr_vs_strong_size.png"
    # a fully fine-tuned 23M model and a LoRA-trained 135M one differ in more than size: no line joins them
    assert not plots.pgr_vs_size("t", [run("minilm-l6", "full", 0.2), run("smollm2-135m", "lora", 0.5)], "strong", path)
    assert not path.exists()
    assert plots.pgr_vs_size("t", [run("minilm-l6", "full", 0.2), run("minilm-l6", "lora", 0.3),
                                   run("smollm2-135m", "lora", 0.5)], "strong", path)
    assert path.stat().st_size > 1000


def test_the_table_names_how_a_model_trains_where_the_runs_compared_train_it_differently(tmp_path):
    from oversight.compare import RunSummary, display_rows, numeric_rows

    def run(strong: str, mode: str) -> RunSummary:
        return RunSummary(f"{strong}-{mode}", "w2s", "d", "minilm-l3", strong, "xent", [0], 0.5, {}, tmp_path,
                          weak_mode="full", strong_mode=mode)

    mixed = [run("minilm-l6", "full"), run("minilm-l6", "lora"), run("smollm2-135m", "probe")]
    assert [(row[3], row[4]) for row in display_rows(mixed)[1]] == [
        ("minilm-l3", "minilm-l6 (full)"), ("minilm-l3", "minilm-l6 (lora)"), ("minilm-l3", "smollm2-135m (probe)")]
    assert [row[4] for row in display_rows(mixed[1:2])[1]] == ["minilm-l6"]  # one way of training: the name alone
    columns, rows = numeric_rows(mixed)
    assert [dict(zip(columns, row))["strong_mode"] for row in rows] == ["full", "lora", "probe"]


def test_the_size_plot_marks_an_undefined_pgr_and_labels_intervals_past_its_view(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    from oversight import plots
    from oversight.compare import RunSummary

    def run(strong: str, pgr: float, lo: float, hi: float) -> RunSummary:
        return RunSummary(strong, "w2s", "d", "minilm-l3", strong, "logconf", [0, 1, 2], 0.5,
                          {"pgr": {"mean": pgr, "lo": lo, "hi": hi}}, tmp_path, strong_mode="probe")

    monkeypatch.setattr(plt, "close", lambda fig: None)  # keep the figure to read back what was drawn
    runs = [run("mpnet-base", 0.05, -1.36, 0.48), run("smollm2-135m", float("nan"), float("nan"), float("nan")),
            run("gemma3-270m", 0.43, -0.3, 2.4)]
    assert plots.pgr_vs_size("t", runs, "strong", tmp_path / "size.png")
    ax = plt.gcf().axes[0]
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == ["-1.36", "2.40", "undefined"]  # true ends of the clipped intervals; the undefined size named, not drawn at a value
    assert ax.get_ylim() == (plots.PGR_VIEW[0] - 0.05, plots.PGR_VIEW[1] + 0.05)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["110M", "134M", "268M"]
    (line,) = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    assert list(line.get_ydata()) == [0.05, 0.43]  # the line joins the defined PGRs only
    plt.close("all")

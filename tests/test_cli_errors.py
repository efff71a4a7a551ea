"""Bad input through the CLI as typed: one `error:` line naming the problem, exit 2, no result."""

from __future__ import annotations

import json
import subprocess
import sys

TINY = ["seeds=[0]", "wandb.mode=disabled", "data.max_examples=90", "split.weak_train=30", "split.strong_train=30",
        "split.test=30", "weak.model.model=minilm-l3", "strong.model.model=minilm-l3", "weak.train.epochs=1", "strong.train.epochs=1"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oversight.cli", *args], capture_output=True, text=True)


def error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    return lines[0]


def test_unknown_key_and_bad_type():
    assert "unknown config key 'weak.modle'" in error_line(run_cli("run", "weak.modle=x"))
    assert "split.test" in error_line(run_cli("run", "split.test=lots"))


def test_model_that_resolves_nowhere_offline(tmp_path):
    line = error_line(run_cli("run", *TINY, "offline=true", "strong.model.model=no-such/model", f"out_dir={tmp_path}"))
    assert "'no-such/model' resolves nowhere offline" in line


def test_missing_column_and_too_few_examples(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"sentence": f"text {i}", "label": i % 2}) + "\n" for i in range(40)))
    line = error_line(run_cli("run", *TINY, "data.name=local", f"data.path={data}", f"out_dir={tmp_path}"))
    assert "'text'" in line and "sentence" in line
    line = error_line(run_cli("run", *TINY, "data.name=local", f"data.path={data}", "data.text_column=sentence", f"out_dir={tmp_path}"))
    assert "split needs 90 examples" in line
    assert not list(tmp_path.glob("*/results.json"))


def test_diverged_training_is_an_error_and_never_a_result(tmp_path):
    # lr x weight_decay > 2 makes AdamW's decay step blow the weights up: NaN within a few steps
    for extra in ([], ["strong.train.val_frac=0", "strong.train.select=none"]):
        line = error_line(run_cli("run", *TINY, "strong.train.lr=1e10", "strong.train.epochs=10", *extra, f"out_dir={tmp_path}"))
        assert "seed0/ceiling" in line and "diverged" in line and "lr=1e+10" in line
        assert not list(tmp_path.glob("*/results.json"))
        assert not list((tmp_path / "_stages" / "ceiling").glob("*/.complete"))  # nothing committed for reuse


def test_student_may_not_select_on_gold(tmp_path):
    line = error_line(run_cli("run", *TINY, "w2s.student.select=gold_holdout", f"out_dir={tmp_path}"))
    assert "w2s.student.select=gold_holdout needs gold training labels" in line
    assert not (tmp_path / "_stages").exists()  # refused before any stage ran


def test_a_ceiling_that_does_not_beat_weak_prints_pgr_undefined(tmp_path):
    result = run_cli("run", *TINY, "strong.train.lr=1e-9", f"out_dir={tmp_path}")  # an untrained ceiling
    assert result.returncode == 0, result.stderr[-2000:]
    assert "PGR undefined" in result.stdout
    (results,) = tmp_path.glob("*/results.json")
    summary = json.loads(results.read_text())["summary"]  # strict JSON: json.loads refuses nothing here
    assert summary["pgr"]["mean"] is None and summary["pgr"]["undefined_seeds"] == [0]
    assert "NaN" not in results.read_text()


def test_flags_and_overrides_in_any_order():
    for args in (["configs/w2s_default.yaml", "--print-config", "seeds=[4]", "split.test=500"],
                 ["--print-config", "configs/w2s_default.yaml", "seeds=[4]", "split.test=500"],
                 ["configs/w2s_default.yaml", "seeds=[4]", "--print-config", "split.test=500"]):
        shown = run_cli("run", *args)
        assert shown.returncode == 0, shown.stderr[-2000:]
        assert "- 4\n" in shown.stdout and "test: 500" in shown.stdout
    bad = run_cli("run", "configs/w2s_default.yaml", "--print-config", "stray")
    assert bad.returncode == 2 and "unrecognized arguments: stray" in bad.stderr

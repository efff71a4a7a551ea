"""Extending is adding one file: the README's loss, judging scheme and dataset source, each dropped
into a copy of the package and run there; and stage keys that hash only what a stage uses, so
adding a field to one component (or changing a section a protocol does not read) leaves every
other stage key and the run's name unchanged."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TINY = ["seeds=[0]", "wandb.mode=disabled", "data.max_examples=90", "split.weak_train=30", "split.strong_train=30",
        "split.test=30", "weak.model.model=minilm-l3", "strong.model.model=minilm-l3", "weak.train.epochs=1", "strong.train.epochs=1"]


def readme_files() -> dict[str, str]:
    """The README's `# file: <path>` code blocks, by path."""
    blocks = re.findall(r"```python\n# file: (\S+)\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    return {path: body for path, body in blocks}


def package_with(tmp_path: Path, files: dict[str, str]) -> Path:
    """A copy of the `oversight` package with `files` added (or replaced); returns its parent."""
    root = tmp_path / "pkg"
    shutil.copytree(ROOT / "oversight", root / "oversight", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "configs").symlink_to(ROOT / "configs")
    for path, text in files.items():
        (root / path).write_text(text)
    return root


def run_in(root: Path, *args: str) -> subprocess.CompletedProcess:
    """`oversight <args>` from the package copy under `root` (its working directory, so it comes first on sys.path)."""
    env = {**os.environ, "PYTHONPATH": str(root), "WANDB_MODE": "disabled"}
    done = subprocess.run([sys.executable, "-m", "oversight.cli", *args], cwd=root, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def python_in(root: Path, code: str, *args: str) -> str:
    """Run `code` with the package copy under `root` (the working directory, so it comes first on sys.path)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_readme_shows_three_new_files():
    assert set(readme_files()) == {"oversight/training/losses/brier.py", "oversight/judging/schemes/summary.py",
                                   "oversight/data/sources/inline.py"}
    for path in readme_files():
        assert not (ROOT / path).exists()  # new files, not edits of existing ones


def test_a_new_loss_file_with_a_hyperparameter_trains_a_student(tmp_path):
    root = package_with(tmp_path, {p: t for p, t in readme_files().items() if "losses" in p})
    listed = run_in(root, "list").stdout
    assert re.search(r"brier .*\[scale=1\.0\]", listed)
    run_in(root, "run", "configs/w2s_default.yaml", *TINY, "w2s.student.loss={name: brier, scale: 2.0}", f"out_dir={tmp_path}")
    (meta,) = [json.loads(m.read_text()) for m in (tmp_path / "_stages" / "student").glob("*/meta.json")]
    assert meta["spec"]["train"]["loss"] == {"name": "brier", "scale": 2.0}
    (results,) = [json.loads(r.read_text()) for r in tmp_path.glob("w2s-*/results.json")]
    assert results["complete"] and 0 <= results["summary"]["student_acc"]["mean"] <= 1
    bad = subprocess.run([sys.executable, "-m", "oversight.cli", "run", "w2s.student.loss={name: brier, scael: 2.0}", "--print-config"],
                         cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown config key 'w2s.student.loss.scael'" in bad.stderr


@pytest.mark.slow
def test_a_new_judging_scheme_with_a_new_role_runs(tmp_path):
    root = package_with(tmp_path, {p: t for p, t in readme_files().items() if "schemes" in p})
    args = ["data.max_examples=200", "split.strong_train=6", "split.test=40", "strong.model.model=minilm-l3", "strong.train.epochs=2",
            "assisted_judging.schemes=[direct,summary]", "assisted_judging.transfer=[]", "assisted_judging.test_items=8",
            "assisted_judging.schemes.summary.summarizer.max_new_tokens=8", "assisted_judging.bootstrap=200"]
    run_in(root, "run", "configs/debate_sarcasm.yaml", *args, f"out_dir={tmp_path}", "name=summary")
    rows = [json.loads(line) for line in (tmp_path / "summary" / "transcripts" / "summary-seed0.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and all(r["summary"] and "A summary of the text:" in r["judge_reads"][0] for r in rows)
    (meta,) = [json.loads(m.read_text()) for m in (tmp_path / "_stages" / "transcripts_summary").glob("*/meta.json")]
    assert meta["spec"]["scheme"]["summarizer"]["max_new_tokens"] == 8 and meta["spec"]["scheme"]["words"] == 12


def test_a_new_dataset_source_with_its_own_settings_loads(tmp_path):
    root = package_with(tmp_path, {p: t for p, t in readme_files().items() if "sources" in p})
    rows = "[" + ",".join(f"[review {i} {'good' if i % 2 else 'bad'}, {'pos' if i % 2 else 'neg'}]" for i in range(40)) + "]"
    shown = run_in(root, "run", f"data={{name: inline, rows: {rows}}}", "--print-config").stdout
    assert "name: inline" in shown and "- review 3 good" in shown
    out = python_in(root, "from oversight.config import load_config; from oversight.data import load_dataset_from_config\n"
                          f"ds = load_dataset_from_config(load_config(None, ['data={{name: inline, rows: {rows}}}']).run.data)\n"
                          "print(len(ds), ds.classes)")
    assert out.strip() == "40 ['neg', 'pos']"


STAGE_KEYS = """
import json
import sys
import numpy as np
from oversight.config import load_config
from oversight.context import train_spec
from oversight.experiment import default_run_name
from oversight.stages import stage_key

exp = load_config("configs/w2s_default.yaml", sys.argv[1:])
run, idx, targets = exp.run, np.arange(4), np.zeros((4, 2), np.float32)
roles = {"weak": (run.weak.model, run.weak.train), "ceiling": (run.strong.model, run.strong.train),
         "student": (run.strong.model, exp.protocol.student)}
keys = {kind: stage_key(kind, train_spec("data", model, "id", train, 0, idx, targets, idx)) for kind, (model, train) in roles.items()}
print(json.dumps({**keys, "run": default_run_name(exp)}))
"""


def test_stage_keys_hash_only_what_a_stage_uses(tmp_path):
    before = json.loads(python_in(package_with(tmp_path / "a", {}), STAGE_KEYS))
    product = (ROOT / "oversight/training/losses/product.py").read_text()
    debate = (ROOT / "oversight/judging/schemes/debate.py").read_text()
    assert "    warmup_frac: float = 0.2" in product and '    mode: str = "simultaneous"' in debate
    changed = {
        # a new field in a loss no default stage uses, and a new default in a scheme plain W2S does not read
        "oversight/training/losses/product.py": product.replace("    warmup_frac: float = 0.2", "    warmup_frac: float = 0.2\n    gamma: float = 2.0"),
        "oversight/judging/schemes/debate.py": debate.replace('    mode: str = "simultaneous"', '    mode: str = "sequential"'),
        **{p: t for p, t in readme_files().items() if "losses" in p},  # and a whole new loss
    }
    after = json.loads(python_in(package_with(tmp_path, changed), STAGE_KEYS))
    assert after == before
    # the student's own loss is used by the student stage alone
    student_changed = json.loads(python_in(package_with(tmp_path / "b", {}), STAGE_KEYS, "w2s.student.loss.alpha_max=0.5"))
    assert student_changed["weak"] == before["weak"] and student_changed["ceiling"] == before["ceiling"]
    assert student_changed["student"] != before["student"] and student_changed["run"] != before["run"]


def test_logging_and_checkpoint_cadence_change_no_stage_key_nor_run_name():
    import numpy as np

    from oversight.config import load_config
    from oversight.context import train_spec
    from oversight.experiment import default_run_name
    from oversight.stages import stage_key

    def keys(*overrides):
        exp = load_config("configs/w2s_default.yaml", list(overrides))
        idx, targets = np.arange(4), np.zeros((4, 2), np.float32)
        spec = train_spec("data", exp.run.strong.model, "id", exp.run.strong.train, 0, idx, targets, idx)
        return stage_key("ceiling", spec), default_run_name(exp)

    assert keys() == keys("strong.train.log_every=1", "strong.train.checkpoint_every_s=0", "weak.train.log_every=7")
    assert keys() != keys("strong.train.evals_per_epoch=3")  # what is evaluated and selected does change the result

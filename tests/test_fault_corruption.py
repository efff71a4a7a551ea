"""Corrupt, forge or plant files in a finished tiny run's cache, rerun, and check what comes out.

Every fault ends one of two ways: the damaged file is found by its recorded sha256 (or its
dtype/shape/finiteness, for features), announced in one line and recomputed, so the results
are byte for byte those of the clean run; or the run stops with one `error:` line naming the
file and exit 2. Never a traceback, never a silently different number, never code from the cache.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from fault_helpers import TINY, cli, copy_tree, one_error_line, results_bytes, run_dir, stage_dir, where


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    code, stdout, stderr = cli("run", *TINY, *where(out))
    assert code == 0, stderr[-3000:]
    return out


@pytest.fixture
def damaged(clean, tmp_path) -> Path:
    return copy_tree(clean, tmp_path / "out")


def rerun(out: Path) -> tuple[int, str, str]:
    return cli("run", *TINY, *where(out))


def features_file(out: Path) -> Path:
    """The first feature store file (a W2S run reads its features before the first stage, reused or not)."""
    return sorted((out / "_features").glob("*.npz"))[0]


def zeroed(path: Path) -> None:
    path.write_bytes(b"\0" * path.stat().st_size)


def garbled(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = os.urandom(64)
    path.write_bytes(bytes(data))


def forged_probs(path: Path) -> None:  # a valid npz whose predictions were swapped for the gold answers' opposite
    arrays = dict(np.load(path))
    arrays["test_probs"] = arrays["test_probs"][:, ::-1].copy()
    np.savez(path, **arrays)


def edited_meta(stage: Path) -> None:  # a number that reaches results.json, changed in valid JSON
    meta = json.loads((stage / "meta.json").read_text())
    meta["kept_step"] += 1
    (stage / "meta.json").write_text(json.dumps(meta))


RECOMPUTED = {  # fault → (file it damages, what the warning says)
    "weak model.pt replaced by {}": (lambda o: torch.save({}, stage_dir(o, "weak") / "model.pt"), "model.pt does not match"),
    "weak model.pt truncated": (lambda o: (p := stage_dir(o, "weak") / "model.pt").write_bytes(p.read_bytes()[:100]), "model.pt does not match"),
    "ceiling test_probs forged in a valid npz": (lambda o: forged_probs(stage_dir(o, "ceiling") / "arrays.npz"), "arrays.npz does not match"),
    "labels arrays.npz not a zip": (lambda o: (stage_dir(o, "labels") / "arrays.npz").write_bytes(b"garbage"), "arrays.npz does not match"),
    "student meta.json holds null": (lambda o: (stage_dir(o, "student") / "meta.json").write_text("null"), "meta.json does not match"),
    "ceiling meta.json not JSON": (lambda o: (stage_dir(o, "ceiling") / "meta.json").write_text("{"), "meta.json does not match"),
    "weak meta.json kept_step edited": (lambda o: edited_meta(stage_dir(o, "weak")), "meta.json does not match"),
    "weak stage missing .complete": (lambda o: (stage_dir(o, "weak") / ".complete").unlink(), None),
    "features garbled": (lambda o: garbled(features_file(o)), "does not match the sha256"),
    "features zeroed": (lambda o: zeroed(features_file(o)), "does not match the sha256"),
    "features not a zip": (lambda o: features_file(o).write_bytes(b"\x93NUMPY\x01\x00{'descr': '<f4', 'fortran_order': Fal"), "does not match"),
    "features sha256 missing": (lambda o: features_file(o).with_suffix(".sha256").unlink(), "no recorded sha256"),
}


@pytest.mark.parametrize("fault", sorted(RECOMPUTED))
def test_damaged_file_is_announced_and_recomputed_to_identical_results(clean, damaged, fault):
    damage, warning = RECOMPUTED[fault]
    damage(damaged)
    code, stdout, stderr = rerun(damaged)
    assert code == 0, stderr[-3000:]
    if warning:
        assert [line for line in stdout.splitlines() if line.startswith("warning:") and warning in line], stdout[-3000:]
    if fault.startswith(("weak", "ceiling", "student", "labels")):  # the damaged stage ran again
        kind = fault.split()[0]
        assert [line for line in stdout.splitlines() if f"] {kind} " in line and " done " in line], stdout[-3000:]
    assert results_bytes(damaged) == results_bytes(clean)


def rehash(stage: Path) -> None:
    """Forge meta.json to match the current files: what a writer to the cache could do."""
    meta = json.loads((stage / "meta.json").read_text())
    from oversight.hashing import file_sha256
    from oversight.stages import output_files

    meta["files"] = output_files(stage)
    (stage / "meta.json").write_text(json.dumps(meta))
    (stage / ".complete").write_text(file_sha256(stage / "meta.json"))


def test_weights_that_do_not_fit_the_model_are_an_error_even_with_forged_hashes(damaged):
    weak = stage_dir(damaged, "weak")
    torch.save({}, weak / "model.pt")  # loaded with strict=False, this gave an untrained head (acc 0.77 → 0.52)
    rehash(weak)
    for labels in (damaged / "_stages" / "labels").iterdir():  # so the weak model must be loaded again
        labels.unlink() if labels.is_file() else shutil.rmtree(labels)
    line = one_error_line(*rerun(damaged)[::2])
    assert f"weights file {weak / 'model.pt'} does not fit the model (missing" in line
    assert not (run_dir(damaged) / "results.json").exists()


class Planted:
    """A pickle that would create a file when unpickled (what a malicious cache file does)."""

    marker = ""

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_planted_pickle_in_a_resume_checkpoint_never_runs(clean, damaged, tmp_path):
    ceiling = stage_dir(damaged, "ceiling")
    partial = ceiling.with_name(ceiling.name + ".partial")
    shutil.rmtree(ceiling)
    partial.mkdir()
    Planted.marker = str(tmp_path / "pwned")
    torch.save({"model": Planted()}, partial / "train.ckpt", pickle_module=pickle)
    code, stdout, stderr = rerun(damaged)
    assert code == 0, stderr[-3000:]
    assert not (tmp_path / "pwned").exists()
    assert "resume checkpoint" in stdout and "discarded" in stdout and "training restarts" in stdout
    assert results_bytes(damaged) == results_bytes(clean)


def test_garbled_resume_checkpoint_restarts_training_instead_of_sticking(clean, damaged):
    student = stage_dir(damaged, "student")
    partial = student.with_name(student.name + ".partial")
    shutil.rmtree(student)
    partial.mkdir()
    (partial / "train.ckpt").write_bytes(os.urandom(4096))
    code, stdout, stderr = rerun(damaged)
    assert code == 0 and "discarded" in stdout, stderr[-3000:]
    assert results_bytes(damaged) == results_bytes(clean)


def test_symlinked_lock_is_refused_and_its_target_untouched(damaged, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    lock = next((damaged / "_stages" / "weak").glob("*.lock"))
    lock.unlink()
    lock.symlink_to(victim)
    line = one_error_line(*rerun(damaged)[::2])
    assert f"lock file {lock} is a symlink" in line
    assert victim.read_text() == "precious"


def test_finished_stages_hold_no_temps_or_checkpoints_and_record_every_file(clean):
    for stage in (clean / "_stages").glob("*/*"):
        if stage.is_dir():
            names = {p.name for p in stage.iterdir()}
            assert not [n for n in names if n.endswith((".tmp", ".ckpt"))], stage
            recorded = json.loads((stage / "meta.json").read_text())["files"]
            assert set(recorded) == names - {"meta.json", ".complete"}
    assert not list(clean.rglob("*.tmp"))


def test_replacing_a_local_model_folder_recomputes_its_features(tmp_path):
    from oversight.models import resolve_model

    folder = tmp_path / "model"
    copy_tree(Path(resolve_model("minilm-l3").path), folder)
    args = [*TINY, f"weak.model.model={folder}", *where(tmp_path / "out")]
    assert cli("run", *args)[0] == 0
    shutil.rmtree(folder)
    copy_tree(Path(resolve_model("minilm-l6").path), folder)  # another model under the same path
    code, stdout, _ = cli("run", *args)
    weak = [line for line in stdout.splitlines() if "] weak " in line]
    assert code == 0 and weak and " done " in weak[0]  # retrained on the new weights, not reused by name
    # keyed by content: the folder now holds MiniLM-L6, so its features are the strong model's (no third file)
    assert len(list((tmp_path / "out" / "_features").glob("*.npz"))) == 2


def test_unreadable_stage_file_read_directly_names_it(clean):
    from oversight.errors import CacheError
    from oversight.stages import load_arrays

    bad = clean.parent / "bad.npz"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("x.npy", b"not an array")
    with pytest.raises(CacheError, match=f"corrupt stage output {bad}"):
        load_arrays(bad)


def test_metrics_line_cut_by_a_kill_does_not_swallow_the_next_attempt(tmp_path):
    from oversight.tracking import RunLogger, WandbConfig

    (tmp_path / "metrics.jsonl").write_text('{"attempt": 1, "stage": "s", "stage_key": "k", "step": 1}\n{"attempt": 1, "sta')
    logger = RunLogger(tmp_path, WandbConfig(mode="disabled"), "r", {}, [], job_type="w2s")
    logger.log({"step": 1, "stage_key": "k"}, "s")  # replayed by a resumed stage: already recorded
    logger.log({"step": 2, "stage_key": "k"}, "s")
    logger.log({"step": 1, "stage_key": "other"}, "s")  # the same stage under another config: its own curve
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 4 and [json.loads(line)["step"] for line in lines[2:]] == [2, 1]
    assert {json.loads(line)["attempt"] for line in lines[2:]} == {2}


def test_symlinked_partial_folder_is_removed_and_its_target_untouched(clean, damaged, tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "important.ckpt").write_text("precious")
    ceiling = stage_dir(damaged, "ceiling")
    shutil.rmtree(ceiling)
    ceiling.with_name(ceiling.name + ".partial").symlink_to(victim)
    code, stdout, stderr = rerun(damaged)
    assert code == 0, stderr[-3000:]
    assert ".partial is a symlink; removed the link" in stdout
    assert [p.name for p in victim.iterdir()] == ["important.ckpt"] and (victim / "important.ckpt").read_text() == "precious"
    assert stage_dir(damaged, "ceiling").is_dir() and not stage_dir(damaged, "ceiling").is_symlink()
    assert results_bytes(damaged) == results_bytes(clean)


def test_symlinked_stage_folder_is_recomputed_in_place(clean, damaged, tmp_path):
    ceiling = stage_dir(damaged, "ceiling")
    elsewhere = shutil.move(ceiling, tmp_path / "elsewhere")
    ceiling.symlink_to(elsewhere)  # a finished stage that lives outside the store
    code, stdout, stderr = rerun(damaged)
    assert code == 0 and "the stage folder is a symlink; recomputing it" in stdout, stderr[-3000:]
    assert not ceiling.is_symlink() and (Path(elsewhere) / "meta.json").exists()  # the link went, not its target
    assert results_bytes(damaged) == results_bytes(clean)


def test_store_that_is_a_file_or_a_symlinked_kind_folder_is_one_error_line(damaged, tmp_path):
    shutil.rmtree(damaged / "_stages")
    (damaged / "_stages").write_text("")
    assert "cannot create folder" in one_error_line(*rerun(damaged)[::2])
    (damaged / "_stages").unlink()
    (damaged / "_stages").mkdir()
    (damaged / "_stages" / "weak").symlink_to(tmp_path)
    assert "_stages/weak is a symlink; a store folder must be a real folder" in one_error_line(*rerun(damaged)[::2])
    line = one_error_line(*cli("run", *TINY, f"out_dir={tmp_path / 'o'}", "feature_cache=/dev/null")[::2])
    assert "/dev/null" in line


def test_bad_npy_header_under_forged_hashes_is_one_error_line(damaged):
    ceiling = stage_dir(damaged, "ceiling")
    with zipfile.ZipFile(ceiling / "arrays.npz", "w") as z:  # np.load raised tokenize.TokenError on this header
        z.writestr("test_probs.npy", b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }}}}}" + b" " * 50 + b"\n")
    rehash(ceiling)
    assert f"corrupt stage output {ceiling / 'arrays.npz'}" in one_error_line(*rerun(damaged)[::2])

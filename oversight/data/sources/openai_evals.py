"""Classification data from OpenAI's `evals` registry (`evals/registry/data/<name>/*.jsonl`).

Samples are chat prompts, `{"input": [messages], "ideal": answer}`; text = the user turns,
label = the ideal answer. Read from an installed `evals` package if there is one, else from
the `evals==3.0.1.post1` wheel with zipfile (installing it would pull in heavy dependencies).
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oversight.data.catalog import DATASETS, DataConfig
from oversight.data.dataset import TextDataset
from oversight.data.sources.pypi import release_file
from oversight.errors import ConfigError, DataError

WHEEL = ("evals", "evals-3.0.1.post1-py3-none-any.whl")
DATA_PREFIX = "evals/registry/data/"
LFS_MAGIC = b"version https://git-lfs.github.com/spec/"


class EvalsData:
    """The files under registry/data/, from an installed package folder or the wheel."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or _installed_data_folder()
        self.wheel = None if self.folder else release_file(*WHEEL)

    def jsonl_files(self) -> list[str]:
        """Paths relative to registry/data/, e.g. "sarcasm/samples.jsonl"."""
        if self.folder:
            return sorted(p.relative_to(self.folder).as_posix() for p in self.folder.rglob("*.jsonl"))
        with zipfile.ZipFile(self.wheel) as z:  # type: ignore[arg-type]
            names = z.namelist()
        return sorted(n[len(DATA_PREFIX) :] for n in names if n.startswith(DATA_PREFIX) and n.endswith(".jsonl"))

    def read(self, rel: str) -> bytes:
        if self.folder:
            return (self.folder / rel).read_bytes()
        try:
            with zipfile.ZipFile(self.wheel) as z:  # type: ignore[arg-type]
                return z.read(DATA_PREFIX + rel)
        except zipfile.BadZipFile as e:
            raise DataError(f"{self.wheel} is not a valid wheel ({e}); delete it to download again") from e


def _installed_data_folder() -> Path | None:
    # find_spec locates the package without importing it (importing evals pulls in openai etc.)
    spec = importlib.util.find_spec("evals")
    for location in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(location) / "registry" / "data"
        if folder.is_dir():
            return folder
    return None


def resolve(data: EvalsData, subset: str) -> str:
    """The samples file for `subset`: "sarcasm", "logiqa/logiqa" or "mazes/3x3-mazes-singlemove.jsonl"."""
    files = data.jsonl_files()
    stem = subset.removesuffix(".jsonl")
    for candidate in (f"{stem}.jsonl", f"{stem}/samples.jsonl"):
        if candidate in files:
            return candidate
    inside = [f for f in files if f.startswith(f"{stem}/") and "few_shot" not in f]
    if len(inside) == 1:
        return inside[0]
    if inside:
        raise DataError(f"evals data {subset!r} has several files, name one: {', '.join(inside)}")
    folders = sorted({f.split("/", 1)[0] for f in files})
    close = difflib.get_close_matches(stem, folders, n=5, cutoff=0.5)
    hint = f"; close names: {', '.join(close)}" if close else ""
    raise DataError(f"evals registry has no data {subset!r}{hint}")


def read_samples(data: EvalsData, rel: str) -> list[dict[str, Any]]:
    raw = data.read(rel)
    if raw.startswith(LFS_MAGIC):
        raise DataError(f"evals data {rel} is a git-LFS pointer, not the data: this release lacks it")
    rows = []
    for lineno, line in enumerate(raw.decode("utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise DataError(f"evals data {rel}:{lineno} is not JSON: {e}") from e
    if not rows:
        raise DataError(f"evals data {rel} has no samples")
    return rows


def sample_fields(rel: str, row: dict[str, Any]) -> tuple[str, str, str]:
    """(text, system prompt, label) of one sample."""
    if "input" not in row or "ideal" not in row:
        raise DataError(f"evals data {rel}: a sample lacks input/ideal (keys: {sorted(row)})")
    messages = row["input"]
    if isinstance(messages, str):
        text, system = messages, ""
    else:
        system = "\n\n".join(m["content"] for m in messages if m.get("role") == "system")
        text = "\n\n".join(m["content"] for m in messages if m.get("role") == "user")
    ideal = row["ideal"]
    # a list holds equivalent spellings of one answer ("the answer is (B)", "... \textbf{(B)}");
    # the first is the canonical one
    label = ideal[0] if isinstance(ideal, list) and ideal else ideal
    if not isinstance(label, (str, int, bool)):
        raise DataError(f"evals data {rel}: ideal answer {ideal!r} is not a single label")
    return text, system, str(label)


def evals_dataset(
    name: str,
    subset: str,
    classes: list[str] | None = None,
    rename: dict[str, str] | None = None,
    data: EvalsData | None = None,
) -> TextDataset:
    """One evals data file as a TextDataset; `rename` maps raw ideal answers to class names."""
    data = data or EvalsData()
    rel = resolve(data, subset)
    fields = [sample_fields(rel, row) for row in read_samples(data, rel)]
    texts = [t for t, _, _ in fields]
    labels = [(rename or {}).get(y, y) for _, _, y in fields]
    columns: dict[str, list[Any]] = {"system": [s for _, s, _ in fields]}
    return TextDataset.from_raw_labels(name, texts, labels, columns, classes)


@dataclass
class EvalsConfig(DataConfig):
    file: str = ""  # the evals data: "sarcasm", "logiqa/logiqa" or "mazes/3x3-mazes-singlemove.jsonl"

    def label(self) -> str:
        return self.file.removesuffix(".jsonl").replace("/", "_")


@DATASETS.register("evals", EvalsConfig)
def evals(cfg: EvalsConfig) -> TextDataset:
    """Any OpenAI evals data file named by `data.file` whose ideal answers form a small class set."""
    if not cfg.file:
        raise ConfigError("dataset evals needs data.file = <data name>, e.g. corr2cause")
    return evals_dataset(f"evals/{cfg.file}", cfg.file)


@DATASETS.register("sarcasm", DataConfig)
def sarcasm(cfg: DataConfig) -> TextDataset:
    """News headlines, sarcastic (The Onion) or sincere (HuffPost): 28.6k, 48% sarcastic."""
    return evals_dataset("sarcasm", "sarcasm", ["sincere", "sarcastic"], {"0": "sincere", "1": "sarcastic"})


_QUARTZ = re.compile(r"(?P<question>.*)\n\n A: (?P<option_a>.*)\n B: (?P<option_b>.*)", re.DOTALL)


@DATASETS.register("quartz", DataConfig)
def quartz(cfg: DataConfig) -> TextDataset:
    """QuaRTz qualitative-relationship science questions with two options, A or B (3.9k)."""
    ds = evals_dataset("quartz", "quartz", ["A", "B"])
    parts = [_QUARTZ.fullmatch(t) for t in ds.texts]
    if not all(parts):
        raise DataError("quartz: a question does not read '<question>\\n\\n A: ..\\n B: ..'")
    for key in ("question", "option_a", "option_b"):
        ds.columns[key] = [m.group(key) for m in parts]  # type: ignore[union-attr]
    return ds

"""`local`: a .jsonl, .json, .csv, .tsv or .parquet file mapped to a TextDataset by column names.

`map_columns` is the one column mapping, shared with the `hub` source (whose config extends
`ColumnsConfig`): text (+ optional pair) and label columns by name, every other column kept as an
extra column.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oversight.data.catalog import DATASETS, DataConfig
from oversight.data.dataset import TextDataset, check_label_kinds, label_value
from oversight.errors import ConfigError, DataError

PAIR_SEP = " [SEP] "


@dataclass
class ColumnsConfig(DataConfig):
    """A table read by column names: a local file, or (extended by `hub`) a `datasets` dataset."""

    path: str = ""  # the file (local) or dataset id / folder (hub)
    text_column: str = "text"  # column holding the input text
    text_pair_column: str = ""  # optional second text, joined as "a [SEP] b" and kept as a column
    label_column: str = "label"  # column holding the label

    def label(self) -> str:
        """For run names: `reviews`, not `reviews.jsonl` (a hub id's dots stay)."""
        path = Path(self.path)
        return path.stem if path.suffix.lower() in SUFFIXES else path.name


SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet")


def _column(name: str, table: dict[str, list[Any]], column: str, field: str) -> list[Any]:
    if column not in table:
        raise DataError(f"{name}: no column {column!r} (data.{field}); columns: {', '.join(table) or 'none'}")
    return table[column]


def _strings(name: str, values: list[Any], column: str) -> list[str]:
    for i, v in enumerate(values):
        if not isinstance(v, str):
            raise DataError(f"{name}: row {i} of column {column!r} is {v!r}, not a string")
        if not v.strip():
            raise DataError(f"{name}: row {i} of column {column!r} is empty")
    return values


def _same_lengths(name: str, table: dict[str, list[Any]]) -> None:
    lengths = {k: len(v) for k, v in table.items()}
    if len(set(lengths.values())) > 1:
        raise DataError(f"{name}: columns have unequal lengths ({', '.join(f'{k}: {n}' for k, n in lengths.items())})")


def map_columns(name: str, table: dict[str, list[Any]], cfg: ColumnsConfig, classes: list[str] | None = None) -> TextDataset:
    """Column-oriented `table` → TextDataset. `classes` gives a class order the source already
    knows (a hub ClassLabel); `cfg.label_names` overrides it; else sorted unique labels."""
    if not any(table.values()):
        raise DataError(f"{name} has no rows")
    _same_lengths(name, table)
    texts = _strings(name, _column(name, table, cfg.text_column, "text_column"), cfg.text_column)
    raw = _column(name, table, cfg.label_column, "label_column")
    if cfg.text_pair_column:
        pair = _column(name, table, cfg.text_pair_column, "text_pair_column")
        pair = _strings(name, pair, cfg.text_pair_column)
        texts = [a + PAIR_SEP + b for a, b in zip(texts, pair, strict=True)]
    raw = [label_value(name, i, v, cfg.label_column) for i, v in enumerate(raw)]
    check_label_kinds(name, raw, cfg.label_column)
    if classes and all(isinstance(v, int) for v in raw):
        if min(raw) < 0:  # hub datasets mark unlabeled rows (test splits) with -1
            raise DataError(f"{name}: label column {cfg.label_column!r} holds -1 (unlabeled rows)")
        raw = [classes[v] for v in raw]
    # the single text column is `texts` itself; with a pair, both halves stay as columns
    skip = {cfg.label_column} | (set() if cfg.text_pair_column else {cfg.text_column})
    columns = {k: list(v) for k, v in table.items() if k not in skip}
    return TextDataset.from_raw_labels(name, texts, raw, columns, cfg.label_names or classes)


def _rows_to_table(rows: list[Any], path: Path) -> dict[str, list[Any]]:
    keys: dict[str, None] = {}
    for i, r in enumerate(rows):
        if not isinstance(r, dict):
            raise DataError(f"{path}: record {i} is {type(r).__name__}, not an object of columns")
        keys.update(dict.fromkeys(r))
    return {k: [r.get(k) for r in rows] for k in keys}


def read_table(path: Path) -> dict[str, list[Any]]:
    """A file as {column: values}; the format follows the file name's suffix.

    An unreadable file (not UTF-8, empty, not the format its suffix says) is a one-line DataError.
    """
    try:
        return _read_table(path)
    except UnicodeDecodeError as err:
        raise DataError(f"{path} is not UTF-8 text (bad byte at offset {err.start})") from err
    except (json.JSONDecodeError, csv.Error) as err:
        raise DataError(f"{path} cannot be parsed: {err}") from err
    except OSError as err:
        raise DataError(f"{path} cannot be read: {err.strerror or err}") from err
    except Exception as err:  # pyarrow's errors (an empty or non-parquet file) share no base class we import
        if type(err).__module__.startswith("pyarrow"):
            raise DataError(f"{path} is not a readable parquet file: {str(err).splitlines()[0]}") from err
        raise


def _read_table(path: Path) -> dict[str, list[Any]]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        rows = []
        with path.open(encoding="utf-8-sig") as f:  # -sig: a byte-order mark is not part of the first key
            for lineno, line in enumerate(f, 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        raise DataError(f"{path}:{lineno} is not JSON: {e}") from e
        return _rows_to_table(rows, path)
    if suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8-sig"))
        if isinstance(data, dict):  # column-oriented: {"text": [...], "label": [...]}
            if not all(isinstance(v, list) for v in data.values()):
                raise DataError(f"{path}: a JSON object must map column names to lists")
            return data
        if not isinstance(data, list):
            raise DataError(f"{path}: JSON must be a list of records or an object of columns")
        return _rows_to_table(data, path)
    if suffix in (".csv", ".tsv"):
        # the csv module keeps every cell a string, so "007" stays "007"; labels are compared
        # as strings anyway
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f, delimiter="\t" if suffix == ".tsv" else ",")
            return _rows_to_table(list(reader), path)
    if suffix == ".parquet":
        import pyarrow.parquet as pq  # ships with `datasets`; imported only when needed

        return pq.read_table(path).to_pydict()
    raise DataError(f"{path}: unsupported file type {suffix!r}; use one of {', '.join(SUFFIXES)}")


@DATASETS.register("local", ColumnsConfig)
def local(cfg: ColumnsConfig) -> TextDataset:
    """A local .jsonl/.json/.csv/.tsv/.parquet file named by `data.path`, mapped by column names."""
    if not cfg.path:
        raise ConfigError("dataset local needs data.path = <file>")
    path = Path(cfg.path).expanduser()
    if not path.is_file():
        raise DataError(f"local dataset file {path} does not exist")
    return map_columns(str(path), read_table(path), cfg)

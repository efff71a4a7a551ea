"""`TextDataset`: the one in-memory form every dataset loader returns.

Texts, integer labels into a fixed class list, and any extra per-example columns a later
stage may want (passage/question for debate, difficulty metadata). Loaders build it with
`TextDataset.from_raw_labels`, which also decides the class order.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from oversight.errors import DataError

# A "classification" with more classes than this is almost always a generation task whose
# answers are free text; refusing it early beats training a 3,000-way classifier by mistake.
MAX_CLASSES = 20

_INT = re.compile(r"-?\d+")
_WHOLE_FLOAT = re.compile(r"(-?\d+)\.0+")
_MISSING = ("", "nan")


def label_value(name: str, row: int, value: Any, column: str) -> Any:
    """A raw label made comparable across file formats, or a DataError naming the file row.

    None, NaN and "" (or "nan") are missing, which is an error: a class called 'nan' would be
    trained on silently. A whole float and its integer are one class (`1.0` is `1`, also as text
    from a CSV), and text labels lose surrounding spaces (" 1" is "1"); infinities, lists and
    mappings are not labels.
    """
    if isinstance(value, str):
        value = value.strip()
        if whole := _WHOLE_FLOAT.fullmatch(value):
            return whole.group(1)
    if isinstance(value, float) and math.isinf(value):
        raise DataError(f"{name}: row {row} of label column {column!r} is {value}, not a label")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    missing = value is None or (isinstance(value, float) and math.isnan(value)) or (
        isinstance(value, str) and value.strip().lower() in _MISSING)
    if missing:
        raise DataError(f"{name}: row {row} has no value in label column {column!r} ({value!r})")
    if isinstance(value, (list, tuple, dict)):
        raise DataError(f"{name}: row {row} of label column {column!r} is a {type(value).__name__}, not a label")
    return value


def check_label_kinds(name: str, values: Sequence[Any], column: str) -> None:
    """Booleans and numbers in one label column are an error: `true` beside `1` would be a third class."""
    first_bool = next((i for i, v in enumerate(values) if isinstance(v, bool)), None)
    first_number = next((i for i, v in enumerate(values) if isinstance(v, (int, float)) and not isinstance(v, bool)), None)
    if first_bool is not None and first_number is not None:
        raise DataError(f"{name}: label column {column!r} mixes booleans (row {first_bool}: {values[first_bool]!r}) "
                        f"and numbers (row {first_number}: {values[first_number]!r}); use one kind")


def sort_label_values(values: Sequence[str]) -> list[str]:
    """Sort raw label values numerically when they all look like integers ("2" < "10")."""
    if all(_INT.fullmatch(v) for v in values):
        return sorted(values, key=int)
    return sorted(values)


@dataclass
class TextDataset:
    name: str  # registered name (or hub id / file path) the data came from
    texts: list[str]  # one input text per example
    labels: np.ndarray  # int64 class indices into `classes`
    classes: list[str]  # class names; label i means classes[i]
    columns: dict[str, list[Any]] = field(default_factory=dict)  # extra per-example values

    def __len__(self) -> int:
        return len(self.texts)

    @classmethod
    def from_raw_labels(
        cls,
        name: str,
        texts: list[str],
        raw_labels: Sequence[Any],
        columns: dict[str, list[Any]] | None = None,
        classes: Sequence[str] | None = None,
    ) -> TextDataset:
        """Encode raw label values (compared as strings) against `classes`.

        Without `classes` the class order is the sorted unique values. A value outside the
        given `classes` is a DataError that names it: silently dropping rows would change
        the class balance without anyone noticing.
        """
        raw = [str(v) for v in raw_labels]
        if classes:
            class_list = [str(c) for c in classes]
        else:
            class_list = sort_label_values(sorted(set(raw)))
        if len(class_list) > MAX_CLASSES:
            raise DataError(
                f"{name}: {len(class_list)} distinct labels (max {MAX_CLASSES}); this looks like a generation task, not a classification"
            )
        index = {c: i for i, c in enumerate(class_list)}
        unknown = sorted(set(raw) - index.keys())
        if unknown:
            shown = ", ".join(repr(u) for u in unknown[:5])
            raise DataError(f"{name}: labels {shown} are not in the class list {class_list}")
        labels = np.fromiter((index[v] for v in raw), dtype=np.int64, count=len(raw))
        return cls(name, list(texts), labels, class_list, dict(columns or {}))

    def subset(self, indices: Sequence[int] | np.ndarray) -> TextDataset:
        idx = np.asarray(indices, dtype=np.int64)
        return TextDataset(
            name=self.name,
            texts=[self.texts[i] for i in idx],
            labels=self.labels[idx].copy(),
            classes=list(self.classes),
            columns={k: [v[i] for i in idx] for k, v in self.columns.items()},
        )

    def only_classes(self, class_names: Sequence[str], name: str) -> TextDataset:
        """The rows of the listed classes only, with the classes in that order, renamed `name`."""
        keep = [self.classes.index(c) for c in class_names]
        ds = self.subset(np.flatnonzero(np.isin(self.labels, keep)))
        ds.name = name
        return ds.with_classes(class_names)

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=len(self.classes))
        return {c: int(n) for c, n in zip(self.classes, counts, strict=True)}

    def with_classes(self, class_names: Sequence[str]) -> TextDataset:
        """The same data with classes in the order `class_names`; an unlisted class is an error."""
        names = [str(c) for c in class_names]
        if names == self.classes:
            return self
        raw = [self.classes[i] for i in self.labels]
        return TextDataset.from_raw_labels(self.name, self.texts, raw, self.columns, names)

    def validate(self) -> TextDataset:
        """Raise DataError on data no experiment can use; return self so calls chain."""
        n = len(self.texts)
        if n == 0:
            raise DataError(f"{self.name}: dataset is empty")
        if self.labels.shape != (n,):
            raise DataError(f"{self.name}: {n} texts but labels of shape {self.labels.shape}")
        if self.labels.dtype != np.int64:
            raise DataError(f"{self.name}: labels are {self.labels.dtype}, expected int64")
        lo, hi = int(self.labels.min()), int(self.labels.max())
        if lo < 0 or hi >= len(self.classes):
            raise DataError(
                f"{self.name}: label {lo if lo < 0 else hi} outside the class set {self.classes} (valid 0..{len(self.classes) - 1})"
            )
        present = np.unique(self.labels).size
        if present < 2:
            raise DataError(f"{self.name}: only {present} class present; need at least 2")
        for i, t in enumerate(self.texts):
            if not isinstance(t, str) or not t.strip():
                raise DataError(f"{self.name}: example {i} has an empty or non-string text {t!r}")
        for key, values in self.columns.items():
            if len(values) != n:
                raise DataError(f"{self.name}: column {key!r} has {len(values)} values, not {n}")
        return self

    def fingerprint(self) -> str:
        """sha256 over classes, texts and labels: equal data gives an equal key in any run.

        Each text is length-prefixed so that ["ab", "c"] and ["a", "bc"] differ; labels are
        hashed as little-endian int64 so the key does not depend on the platform.
        """
        h = hashlib.sha256()
        h.update(json.dumps(self.classes).encode())
        for t in self.texts:
            b = t.encode("utf-8")
            h.update(len(b).to_bytes(8, "little"))
            h.update(b)
        h.update(self.labels.astype("<i8").tobytes())
        return h.hexdigest()

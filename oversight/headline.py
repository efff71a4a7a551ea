"""The headline every protocol reports, per test example: did the supervisor, the student and the
ceiling get it right?

Burns et al. 2023's PGR = (student - weak) / (ceiling - weak) is a ratio of accuracy gaps on one
test set, so its noise comes from two sources: the seeds (which examples each model trained on)
and the test examples themselves. Keeping the per-example correctness of all three models, on the
*same* examples, lets the statistics (oversight/transfer_stats.py) resample both, paired. A
protocol's `run_seed` returns a `SeedResult`: its metrics plus this headline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from oversight.errors import DataError


@dataclass
class Headline:
    """Per-example correctness of the three headline models on one seed's test examples."""

    test_ids: np.ndarray  # dataset indices of the test examples (seeds sharing them are paired)
    weak: np.ndarray  # bool per example: the supervisor (weak model, assisted judge, floor) was right
    student: np.ndarray  # the strong model trained on that supervision
    ceiling: np.ndarray  # the strong model trained on ground truth
    baseline: str = "weak supervisor"  # what `weak_acc` measures, named in the table

    def __post_init__(self) -> None:
        n = len(self.test_ids)
        for name in ("weak", "student", "ceiling"):
            values = np.asarray(getattr(self, name), dtype=bool)
            if values.shape != (n,):
                raise DataError(f"headline {name}: {values.shape} correctness values for {n} test examples")
            setattr(self, name, values)
        self.test_ids = np.asarray(self.test_ids, dtype=np.int64)

    @classmethod
    def from_probs(cls, test_ids: np.ndarray, labels: np.ndarray, weak: np.ndarray, student: np.ndarray,
                   ceiling: np.ndarray, baseline: str = "weak supervisor") -> Headline:
        """From class probabilities (or predicted classes, 1-d) of each model on `test_ids`."""
        def right(pred: np.ndarray) -> np.ndarray:
            pred = np.asarray(pred)
            return (pred.argmax(-1) if pred.ndim == 2 else pred) == labels

        labels = np.asarray(labels)
        return cls(np.asarray(test_ids), right(weak), right(student), right(ceiling), baseline)

    def accuracies(self) -> dict[str, float]:
        return {"weak_acc": float(self.weak.mean()), "student_acc": float(self.student.mean()),
                "ceiling_acc": float(self.ceiling.mean())}

    def arrays(self) -> dict[str, np.ndarray]:
        return {"test_ids": self.test_ids, "weak": self.weak, "student": self.student, "ceiling": self.ceiling}


@dataclass
class SeedResult:
    """What a protocol's `run_seed` returns: its metrics and, for the PGR statistics, the headline."""

    metrics: dict[str, float] = field(default_factory=dict)
    headline: Headline | None = None  # None: no per-example correctness (intervals over seeds only)
    notes: dict[str, str] = field(default_factory=dict)  # facts that are not numbers (an organism's key): results.json, printed last

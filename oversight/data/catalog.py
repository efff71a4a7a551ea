"""`DATASETS`: the one table of dataset loaders, filled by the modules of `oversight.data.sources`.

A loader takes its `data:` section and returns the full dataset; filtering and subsampling
happen in `load_dataset_from_config`. `DataConfig` holds what every source shares (which
examples to keep); a source that needs more (a file path, column names, a task name) registers
a subclass with its own fields, so `data: {name: local, path: x.jsonl}` is checked against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from oversight.registry import ComponentConfig, Registry

if TYPE_CHECKING:
    from oversight.data.dataset import TextDataset


@dataclass
class DataConfig(ComponentConfig):
    """Which dataset (`name`, `oversight list`) and how to cut it down; sources add their own fields."""

    label_names: list[str] = field(default_factory=list)  # raw label values in class order; default sorted unique values
    max_examples: int = 0  # keep at most this many examples (0 = all), chosen with `seed`
    balance: bool = True  # subsample to equal class counts as far as they allow; False keeps the proportions
    seed: int = 0  # seed for the subsample and its order
    dedup: bool = True  # drop repeated texts (and texts seen with two labels): they leak across splits
    min_chars: int = 0  # drop texts shorter than this many characters (0 = no limit)
    max_chars: int = 0  # drop texts longer than this many characters (0 = no limit)
    max_words: int = 0  # drop texts with more whitespace-separated words than this (0 = no limit)

    def label(self) -> str:
        """How run names call this dataset (a source of many datasets names the one it reads)."""
        return self.name


class DatasetLoader(Protocol):
    """`loader(cfg) -> TextDataset`, e.g.

    @DATASETS.register("sarcasm", DataConfig)
    def sarcasm(cfg: DataConfig) -> TextDataset: ...
    """

    def __call__(self, cfg: DataConfig) -> TextDataset: ...


DATASETS: Registry[DatasetLoader] = Registry("dataset", package="oversight.data.sources", config=DataConfig)


def data_config(name: str, **values: Any) -> DataConfig:
    """The `data:` section for dataset `name` with `values` set, e.g. `data_config("sarcasm", max_examples=2000)`."""
    return DATASETS.config(name, **values)

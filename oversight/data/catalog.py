"""`DATASETS`: the one table of dataset loaders, filled by `@DATASETS.register("name")`.

A loader takes the whole `DataConfig` (hub/local need its column names, bigbench its task)
and returns the full dataset; filtering and subsampling happen in `load_dataset_from_config`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from oversight.registry import Registry

if TYPE_CHECKING:
    from oversight.data.config import DataConfig
    from oversight.data.dataset import TextDataset


class DatasetLoader(Protocol):
    """`loader(cfg) -> TextDataset`, e.g.

    @DATASETS.register("sarcasm")
    def sarcasm(cfg: DataConfig) -> TextDataset: ...
    """

    def __call__(self, cfg: DataConfig) -> TextDataset: ...


DATASETS: Registry[DatasetLoader] = Registry("dataset")

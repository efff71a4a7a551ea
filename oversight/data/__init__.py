"""Datasets as one in-memory type, `TextDataset`, loaded by name from the `DATASETS` registry.

    from oversight.data import data_config, load_dataset_from_config
    ds = load_dataset_from_config(data_config("sarcasm", max_examples=2000))

Sources: BIG-bench tasks, OpenAI evals data, `datasets` (hub) and local files.
"""

from oversight.data.catalog import DATASETS, DataConfig, data_config
from oversight.data.config import load_dataset_from_config
from oversight.data.dataset import TextDataset

__all__ = ["DATASETS", "DataConfig", "TextDataset", "data_config", "load_dataset_from_config"]

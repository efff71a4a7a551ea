"""Datasets as one in-memory type, `TextDataset`, loaded by name from the `DATASETS` registry.

    from oversight.data import DataConfig, load_dataset_from_config
    ds = load_dataset_from_config(DataConfig(name="sarcasm", max_examples=2000))

Sources: BIG-bench tasks, OpenAI evals data, `datasets` (hub) and local files.
"""

from oversight.data.catalog import DATASETS
from oversight.data.config import DataConfig, load_dataset_from_config
from oversight.data.dataset import TextDataset

# imported for their side effect: each registers its loaders in DATASETS
from oversight.data.sources import bigbench, hub, local, openai_evals  # noqa: F401

__all__ = ["DATASETS", "DataConfig", "TextDataset", "load_dataset_from_config"]

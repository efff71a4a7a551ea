"""`hub`: a dataset through `datasets.load_dataset(path, subset, split=...)`, mapped by columns.

`data.path` is a hub id, or a local folder of data files (the same call, which is how it is
tested offline), or a `Dataset.save_to_disk` folder. Column mapping is `local.map_columns`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oversight.data.catalog import DATASETS
from oversight.data.dataset import TextDataset
from oversight.data.sources.local import ColumnsConfig, map_columns
from oversight.errors import ConfigError, DataError


@dataclass
class HubConfig(ColumnsConfig):
    """`path` is a hub id or a local dataset folder."""

    subset: str = ""  # the dataset's config name (`datasets.load_dataset(path, subset)`)
    split: str = "train"  # which split to read


def _load(cfg: HubConfig) -> Any:
    import datasets  # heavy (pyarrow, fsspec): imported only when a hub dataset is used

    folder = Path(cfg.path).expanduser()
    if (folder / "state.json").is_file() or (folder / "dataset_dict.json").is_file():
        loaded = datasets.load_from_disk(str(folder))
        if isinstance(loaded, datasets.DatasetDict):
            if cfg.split not in loaded:
                raise DataError(f"{cfg.path}: no split {cfg.split!r}; splits: {', '.join(loaded)}")
            return loaded[cfg.split]
        return loaded
    return datasets.load_dataset(cfg.path, cfg.subset or None, split=cfg.split)


@DATASETS.register("hub", HubConfig)
def hub(cfg: HubConfig) -> TextDataset:
    """A `datasets` dataset (hub id or local folder) named by `data.path`, mapped by column names."""
    if not cfg.path:
        raise ConfigError("dataset hub needs data.path = <dataset id or folder>")
    try:
        ds = _load(cfg)
    except DataError:
        raise
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        where = f"{cfg.path}" + (f" ({cfg.subset})" if cfg.subset else "")
        raise DataError(f"hub dataset {where} split {cfg.split!r}: {type(e).__name__}: {first}") from e
    import datasets

    feature = ds.features.get(cfg.label_column)
    # a ClassLabel stores ints; its names are the class names and their order
    names = list(feature.names) if isinstance(feature, datasets.ClassLabel) else None
    return map_columns(cfg.path, ds.to_dict(), cfg, names)

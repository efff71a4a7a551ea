"""Dataset sources, one module per source; the `DATASETS` registry imports every module here."""

"""Dataset sources; importing a module registers its loaders in `DATASETS`."""

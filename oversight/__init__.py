"""oversight: scalable-oversight experiments (weak-to-strong and friends) from one config.

    from oversight import load_config, run_experiment
    results = run_experiment(load_config("configs/w2s_default.yaml", ["seeds=[0]"]))

Heavy libraries (torch, transformers, wandb) load only when an experiment runs.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__", "load_config", "run_experiment"]


def __getattr__(name: str):
    # Lazy re-exports keep `import oversight` (and `oversight list`) fast.
    if name == "load_config":
        from oversight.config import load_config

        return load_config
    if name == "run_experiment":
        from oversight.experiment import run_experiment

        return run_experiment
    raise AttributeError(name)

"""`oversight bench`: how fast our training, labelling and probe loops are, against baselines.

In one process, on one model, dataset and machine: our training loop vs a naive loop in the style
of openai/weak-to-strong's `train_model` vs HF `Trainer`; our labelling vs naive labelling; a
5-run probe sweep with cached features vs recomputed backbone; the machine's measured matmul rate;
and a `torch.profiler` summary. `run_bench(BenchConfig(...), out=Path("bench.json"))`.
"""

from oversight.bench.config import BenchConfig

__all__ = ["BenchConfig", "run_bench"]


def run_bench(*args, **kwargs):
    from oversight.bench.run import run_bench as _run

    return _run(*args, **kwargs)

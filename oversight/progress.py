"""Progress bars and the `-v` switch: bars on a terminal by default, always under `-v`, never on ranks > 0.

Redirected logs (SLURM, `> log`) stay one line per stage unless `-v` (`OVERSIGHT_VERBOSE=1`, which
job scripts and worker processes inherit) asks for the bars too; the same goes for the bars of the
libraries underneath (transformers' "Loading weights", hub downloads), through `quiet_libraries`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from oversight.training import distributed as dist

VERBOSE = "OVERSIGHT_VERBOSE"


def verbose() -> bool:
    return os.environ.get(VERBOSE, "") not in ("", "0")


_HIDDEN = [0]  # depth of `hidden()` blocks


@contextlib.contextmanager
def hidden() -> Iterator[None]:
    """No bars, stage lines or progress notes inside the block, even under `-v` (a blind audit: which
    stages run, their names and step counts would tell what was planted). Metrics still reach the logs."""
    _HIDDEN[0] += 1
    try:
        yield
    finally:
        _HIDDEN[0] -= 1


def hiding() -> bool:
    """Inside a `hidden()` block: callers print no stage lines or progress notes."""
    return bool(_HIDDEN[0])


def bar(iterable: Any = None, **kwargs: Any):
    """A tqdm bar that disappears when done (`leave=False`); shown per the rules above."""
    from tqdm.auto import tqdm

    disable = True if not dist.is_main() or hiding() else (False if verbose() else None)  # None: only on a terminal
    return tqdm(iterable, leave=False, disable=disable, **kwargs)


def quiet_libraries(stderr_is_terminal: bool) -> None:
    """Library bars off in redirected output unless `-v`: the hub's and transformers' (read by huggingface_hub
    at import), and any other tqdm bar (TQDM_DISABLE, e.g. transformers' GGUF loader, which bypasses both)."""
    if not verbose() and not stderr_is_terminal:
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TQDM_DISABLE", "1")  # a default only: our own bars pass `disable` themselves

"""Writes that appear whole or not at all: a temp file in the same folder, then `os.replace`.

A reader, or a run killed mid-write, never sees a half-written file under the final name, so a
result file that exists is a complete one.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

FILE_MODE = 0o644  # mkstemp creates 0600 files; caches and run dirs may be shared between users


TEMP_SUFFIX = ".tmp"  # every temp file is `.<name>.<random>.tmp`: never mistaken for an output


def atomic_write_with(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Call `write(f)` on an unpredictably named temp file next to `path`, then rename it into place.

    The temp is removed on every path out (an error, Ctrl-C), so a folder never keeps one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write_with(path, lambda f: f.write(data))


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(v) for v in value]
    if hasattr(value, "item") and hasattr(value, "dtype"):  # numpy scalars
        return _finite_or_none(value.item())
    if hasattr(value, "tolist"):  # numpy arrays
        return _finite_or_none(value.tolist())
    return value


def strict_json(payload: Any, indent: int | None = 2) -> str:
    """JSON any parser accepts: NaN and inf become null (an undefined metric), never bare `NaN`."""
    return json.dumps(_finite_or_none(payload), indent=indent, allow_nan=False, default=str)


def atomic_write_json(path: Path, payload: Any) -> None:
    atomic_write_bytes(path, strict_json(payload).encode())

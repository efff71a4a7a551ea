"""Weight files that cannot run code and cannot silently mis-fit the model they are loaded into.

`torch.load` with `weights_only=True` unpickles tensors and plain containers only, so a file
planted in a shared cache cannot execute anything. Loading checks every key and shape against
the model first: a file holding `{}`, another model's head or a truncated archive is an error
naming the file, never an untrained layer left silently at its random init.
"""

from __future__ import annotations

from pathlib import Path

import torch

from oversight.atomic import atomic_write_with
from oversight.errors import CacheError


def save_tensors(path: Path, blob: dict) -> None:
    """Write `blob` (tensors and plain containers) whole or not at all, streamed (no copy in memory)."""
    atomic_write_with(path, lambda f: torch.save(blob, f))


def read_tensors(path: Path) -> dict:
    """Load a file written by `save_tensors`; anything but tensors and plain containers is refused."""
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, bad pickle, a forbidden global: all one message
        raise CacheError(f"unreadable weights file {path}: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}") from err
    if not isinstance(blob, dict):
        raise CacheError(f"weights file {path} holds a {type(blob).__name__}, not a mapping of tensors")
    return blob


def check_fit(state: dict, expected: dict[str, torch.Tensor], path: Path) -> None:
    """`state` has exactly the keys of `expected`, each a tensor of the same shape."""
    missing = sorted(set(expected) - set(state))
    unknown = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(state) & set(expected)
                   if not isinstance(state[k], torch.Tensor) or tuple(state[k].shape) != tuple(expected[k].shape))
    problems = [f"{label} {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}"
                for label, keys in (("missing", missing), ("unexpected", unknown), ("wrong shape", wrong)) if keys]
    if problems:
        raise CacheError(f"weights file {path} does not fit the model ({'; '.join(problems)})")


def load_checked(model: torch.nn.Module, path: Path, expected: dict[str, torch.Tensor] | None = None) -> None:
    """Load `path` into `model` after `check_fit` against `expected` (default: the model's whole state)."""
    state = read_tensors(path)
    check_fit(state, model.state_dict() if expected is None else expected, path)
    model.load_state_dict(state, strict=expected is None)

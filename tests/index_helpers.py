"""A package index on loopback for the download tests: a folder served read-only over real HTTP."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve `site` on 127.0.0.1 until the block ends; yields the base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: _Quiet(*a, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def publish(site: Path, project: str, filename: str = "", payload: bytes = b"") -> None:
    """Give `project` a PEP 503 page under `site`/simple linking `filename` (written to `site`/files) with
    its sha256, as the real index does; without a filename, a page that links nothing."""
    link = ""
    if filename:
        (site / "files").mkdir(parents=True, exist_ok=True)
        (site / "files" / filename).write_bytes(payload)
        link = f'<a href="../../files/{filename}#sha256={hashlib.sha256(payload).hexdigest()}">{filename}</a>'
    (site / "simple" / project).mkdir(parents=True)
    (site / "simple" / project / "index.html").write_text(link)

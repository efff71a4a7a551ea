"""A real OpenAI-compatible server on localhost for the HTTP backend's tests: `transformers serve`
pinned to the packaged SmolLM2-135M-Instruct folder, on CPU, offline. Its access log is what the
tests count requests from."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

POST = re.compile(r'"POST /v1/chat/completions HTTP/1\.1" 200')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalServer:
    """A server process on 127.0.0.1:`port`, logging to `log`: start (waiting for /health), kill -9
    and start again; `served()` counts the requests its log shows as answered (`ANSWERED`)."""

    NAME = "server"
    ANSWERED = POST

    def __init__(self, port: int, log: Path) -> None:
        self.port, self.log = port, log
        self.proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> tuple[list[str], dict[str, str]]:
        raise NotImplementedError

    def start(self, timeout: float = 180.0) -> None:
        argv, env = self.command()
        with open(self.log, "a") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env}, start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.NAME} exited with {self.proc.returncode}:\n{self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{self.NAME} did not come up in {timeout:.0f} s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def served(self) -> int:
        """Requests answered so far, counted in the access log."""
        return len(self.ANSWERED.findall(self.log.read_text())) if self.log.exists() else 0


class Server(LocalServer):
    """`transformers serve <model>` on CPU, offline."""

    NAME = "transformers serve"

    def __init__(self, model_dir: str, port: int, log: Path) -> None:
        super().__init__(port, log)
        self.model_dir = model_dir

    def command(self) -> tuple[list[str], dict[str, str]]:
        cli = Path(sys.executable).with_name("transformers")
        return ([str(cli), "serve", self.model_dir, "--host", "127.0.0.1", "--port", str(self.port), "--device", "cpu"],
                {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1"})


def usage(out: Path) -> dict[str, float]:
    """Summed role usage over the run's transcript and verdict stages."""
    total: dict[str, float] = {}
    for meta in out.glob("_stages/*/*/meta.json"):
        for k, v in json.loads(meta.read_text()).items():
            if k.endswith(("_calls", "_cached", "_completion_tokens", "_retries")):
                total[k] = total.get(k, 0) + v
    return total

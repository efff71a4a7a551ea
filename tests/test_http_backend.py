"""LM roles on a real OpenAI-compatible server: `transformers serve` on localhost with the packaged
SmolLM2-135M-Instruct, driven through the `openai` backend by the CLI as a user types it.

Checks: debate and the judge run end to end over HTTP (the server gives no logprobs, so the run
says the verdicts are parsed); every call is counted in the stage's usage and matches the server's
access log; a rerun makes zero calls, and so does a run in a fresh store, answered from the shared
response cache with identical results; a server killed mid-run and started again is retried through.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from serving import Server, free_port, usage

pytestmark = pytest.mark.slow

ROLE = "{model: '%s', backend: {name: openai, base_url: '%s', logprobs: false, concurrency: 4, max_retries: 6, cache_dir: '%s'}}"
TINY = ["data.max_examples=200", "split.strong_train=6", "split.test=40", "strong.model.model=minilm-l3", "strong.train.epochs=2",
        "assisted_judging.schemes=[direct,debate]", "assisted_judging.transfer=[debate]", "assisted_judging.test_items=4",
        "assisted_judging.bootstrap=200", "assisted_judging.schemes.debate.debater.max_new_tokens=6",
        "assisted_judging.schemes.debate.rounds=1", "assisted_judging.judge.max_parse_failure=1.0"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from oversight.models import resolve_model

    srv = Server(resolve_model("smollm2-135m").path, free_port(), tmp_path_factory.mktemp("serve") / "server.log")
    srv.start()
    yield srv
    srv.kill()


def command(srv: Server, out: Path, responses: Path, *extra: str) -> list[str]:
    role = ROLE % (srv.model_dir, srv.base_url, responses)  # the server serves the model under its folder's path
    return [sys.executable, "-m", "oversight.cli", "run", "debate_sarcasm", f"out_dir={out}", *TINY,
            f"assisted_judging.schemes.debate.debater={role}", f"assisted_judging.judge.lm={role[:-1]}, max_new_tokens: 4}}", *extra]


def test_roles_run_over_http_and_a_rerun_makes_no_calls(server, tmp_path):
    before, responses = server.served(), tmp_path / "responses"
    run = subprocess.run(command(server, tmp_path / "a", responses), capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "cannot score answers by logprob (an openai backend needs logprobs and prefill); its verdicts are parsed" in run.stdout
    results = json.loads(next((tmp_path / "a").glob("*/results.json")).read_text())
    s = {k: v["mean"] for k, v in results["summary"].items()}
    assert 0 <= s["debate_judge_acc"] <= 1 and 0 <= s["debate_student_acc"] <= 1
    transcript = [json.loads(line) for line in next((tmp_path / "a").glob("*/transcripts/debate-seed0.jsonl")).read_text().splitlines()]
    assert len(transcript) == 6 and all(len(r["turns"]) == 1 and all(t.strip() for t in r["turns"][0]) for r in transcript)
    assert all(np.allclose(np.sum(r["order_probs"], axis=1), 1) for r in transcript)
    used = usage(tmp_path / "a")
    # debate: 2 sides × 1 round on the 6 pool and 4 test items; the judge: 2 orders × the same 10 items, alone and after
    # debate; the sandwich's model alone (the debaters' model on their server, scored as a judge): 2 orders × the 6 pool items
    assert used["debater_calls"] == 2 * (6 + 4) and used["debater_completion_tokens"] > 0
    assert used["judge_calls"] == 2 * 2 * (6 + 4) + 2 * 6 and used["judge_completion_tokens"] > 0
    assert server.served() - before == used["debater_calls"] + used["judge_calls"]  # every call the server answered, counted once

    assert used["debater_cached"] == used["judge_cached"] == 0

    served = server.served()
    again = subprocess.run(command(server, tmp_path / "a", responses), capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stdout[-3000:]
    assert server.served() == served  # the rerun reused every stage and asked the server nothing
    assert json.loads(next((tmp_path / "a").glob("*/results.json")).read_text())["summary"] == results["summary"]

    elsewhere = subprocess.run(command(server, tmp_path / "b", responses), capture_output=True, text=True, timeout=900)
    assert elsewhere.returncode == 0, elsewhere.stdout[-3000:]
    assert server.served() == served  # a fresh store recomputes every stage, answered from the shared response cache
    assert "answered from the response cache" in elsewhere.stdout
    fresh = usage(tmp_path / "b")
    assert fresh["debater_calls"] == fresh["judge_calls"] == 0 and (fresh["debater_cached"], fresh["judge_cached"]) == (20, 52)
    assert json.loads(next((tmp_path / "b").glob("*/results.json")).read_text())["summary"] == results["summary"]


def test_a_server_restart_mid_run_is_retried_through(server, tmp_path):
    before = server.served()
    proc = subprocess.Popen(command(server, tmp_path, tmp_path / "responses", "seeds=[1]"), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 300
    while server.served() < before + 3 and time.time() < deadline and proc.poll() is None:  # debate under way
        time.sleep(0.1)
    assert proc.poll() is None, "the run ended before the server could be restarted"
    server.kill()
    time.sleep(2)
    server.start()
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-3000:]
    assert "retry 1/6" in out
    assert usage(tmp_path)["debater_retries"] + usage(tmp_path).get("judge_retries", 0) >= 1
    results = json.loads(next(tmp_path.glob("*/results.json")).read_text())
    assert results["seeds"] == [1] and "debate_judge_acc" in results["summary"]

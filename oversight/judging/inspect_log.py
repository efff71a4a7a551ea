"""A run's judging transcripts as Inspect eval logs (UK AISI's `inspect_ai`), to read in `inspect view`.

Every transcript file a judging run publishes (`transcripts/<scheme>[-tag]-seed<k>.jsonl`, written by
judging/run.py) becomes one log: one sample per judged item. A sample's input is the judge's conversation
in the first order (the question with the answers listed, then what it read); its messages are the judge's reading and verdict in both
orders (its answer probabilities when the judge scored answers; its reply after the verdict
prefix when it wrote one); its output is the judge's pick; its `judge` score is C or I against the gold answer; its
metadata keeps the rest of the transcript record (every strong role's turns, quotes, the hidden
passage). The log's model is the judge's and `model_roles` names every role's model with its backend
and sampling, so the roles are in every log. Needs the optional extra: `pip install 'oversight[inspect]'`.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

from oversight.errors import ConfigError

NAME = re.compile(r"(?P<scheme>.+)-seed(?P<seed>\d+)\.jsonl")


def export_run(run_dir: Path, out_dir: Path) -> list[Path]:
    """Write one `.eval` log per transcript file of `run_dir` into `out_dir`; return their paths."""
    try:
        from inspect_ai.log import write_eval_log
    except ImportError as err:
        raise ConfigError("exporting Inspect logs needs inspect-ai: pip install 'oversight[inspect]'") from err
    files = sorted((run_dir / "transcripts").glob("*-seed*.jsonl"))
    if not files:
        raise ConfigError(f"{run_dir} has no judging transcripts (transcripts/<scheme>-seed<k>.jsonl)")
    out_dir.mkdir(parents=True, exist_ok=True)
    name = run_dir.resolve().name
    written = []
    for path in files:
        match = NAME.fullmatch(path.name)
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        if match is None or not rows:
            continue
        out = out_dir / f"{name}-{path.stem}.eval"
        write_eval_log(eval_log(rows, match["scheme"], int(match["seed"]), name, path), str(out))
        written.append(out)
    return written


def eval_log(rows: list[dict], scheme: str, seed: int, run_name: str, source: Path):
    """One transcript file's rows as an `EvalLog`."""
    from inspect_ai.log import EvalConfig, EvalDataset, EvalLog, EvalMetric, EvalResults, EvalScore, EvalSpec

    roles = rows[0].get("roles") or {}
    if not roles or "judge_asked" not in rows[0]:
        raise ConfigError(f"{source} records no roles or judge questions (published before they were recorded): rerun the "
                          "experiment to republish it (every stage is reused)")
    samples = [_sample(row, roles) for row in rows]
    correct = sum(s.scores["judge"].value == "C" for s in samples)
    created = datetime.fromtimestamp(source.stat().st_mtime, timezone.utc).isoformat()
    spec = EvalSpec(created=created, task=f"oversight/{scheme}", task_args={"seed": seed},
                    dataset=EvalDataset(name=run_name, samples=len(samples), sample_ids=[s.id for s in samples]),
                    model=_model_name(roles["judge"]), model_roles={r: _model_config(lm) for r, lm in roles.items() if r != "judge"},
                    config=EvalConfig(), metadata={"run": run_name, "seed": seed, "judge": roles["judge"]})
    results = EvalResults(total_samples=len(samples), completed_samples=len(samples),
                          scores=[EvalScore(name="judge", scorer="judge",
                                            metrics={"accuracy": EvalMetric(name="accuracy", value=correct / len(samples))})])
    return EvalLog(status="success", eval=spec, results=results, samples=samples)


def _sample(row: dict, roles: dict):
    from inspect_ai.log import EvalSample
    from inspect_ai.model import ChatMessageAssistant, ChatMessageUser, ModelOutput
    from inspect_ai.scorer import Score

    judge = _model_name(roles["judge"])
    answers = row["answers"]
    messages = []
    wrote = roles["judge"].get("verdict") == "generate" and roles["judge"].get("kind", "lm") == "lm"
    prefix = roles["judge"].get("verdict_prefix", "")
    for asked, read, probs, reply in zip(row["judge_asked"], row["judge_reads"], row["order_probs"], row["judge_replies"] or ["", ""]):
        messages.append(ChatMessageUser(content="\n".join(p for p in (asked, read) if p)))  # the judge's conversation, as judge_conversation builds it
        scored = ", ".join(f"P({a}) = {p:.3f}" for a, p in zip(answers, probs))
        verdict = f"{prefix} {reply}".strip() if wrote and reply else "(no verdict named)" if wrote else scored
        messages.append(ChatMessageAssistant(content=verdict, model=judge))
    pick = answers[max(range(len(answers)), key=lambda k: row["verdict_probs"][k])]
    kept = {k: v for k, v in row.items() if k not in ("index", "answers", "gold", "judge_reads", "judge_asked", "roles")}
    return EvalSample(id=row["index"], epoch=1, input=messages[0].content, choices=answers, target=row["gold"],
                      messages=messages, output=ModelOutput.from_content(model=judge, content=pick),
                      scores={"judge": Score(value="C" if pick == row["gold"] else "I", answer=pick,
                                             metadata={"verdict_probs": row["verdict_probs"]})},
                      metadata=kept)


def _model_name(lm: dict) -> str:
    """`<backend>/<model>` (a trained judge: `classifier/<its probe model>`)."""
    if lm.get("kind") == "classifier":
        return f"classifier/{lm.get('classifier', {}).get('model', '?')}"
    lm = lm.get("lm", lm)
    return f"{lm['backend']['name']}/{lm['model']}"


def _model_config(lm: dict):
    from inspect_ai.model import GenerateConfig, ModelConfig

    return ModelConfig(model=_model_name(lm), config=GenerateConfig(temperature=lm["temperature"], top_p=lm["top_p"], max_tokens=lm["max_new_tokens"]),
                       base_url=lm["backend"].get("base_url"), args={"backend": lm["backend"]})

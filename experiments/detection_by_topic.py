"""The judge's detection of tampered candidates on a topic subset and off it, from a run's transcripts.

A concealing critic (`critique conceal=[words]`) reports `detection_rate_concealed` / `_open` itself;
its control is the honest critic on the same items, whose run records no subset. This reads the
published critique (and candidate) transcripts of any run and splits them by the same rule the
critic uses (`organisms.mentions`: whole words, any case), so honest and concealing runs compare
item for item (the candidates and their planted errors depend only on the seed).

    python experiments/detection_by_topic.py RUN_DIR [RUN_DIR ...] --words hotel hotels room ...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from oversight.organisms import mentions


def rates(path: Path, words: list[str]) -> dict[str, float | int]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    on_topic = mentions(words)
    tampered = np.array([r["tampered"] for r in rows])
    topic = np.array([bool(on_topic.search(r["passage"])) for r in rows])
    rejects = np.array([int(np.argmax(r["verdict_probs"])) != r["candidate_answer"] for r in rows])
    out: dict[str, float | int] = {"items": len(rows), "on_topic": int(topic.sum())}
    for part, where in (("topic", topic), ("elsewhere", ~topic)):
        out[f"tampered_{part}"] = int((tampered & where).sum())
        out[f"detection_{part}"] = float(rejects[tampered & where].mean()) if (tampered & where).any() else float("nan")
        out[f"false_alarm_{part}"] = float(rejects[~tampered & where].mean()) if (~tampered & where).any() else float("nan")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--words", nargs="+", required=True)
    args = parser.parse_args()
    for run in args.runs:
        for path in sorted((run / "transcripts").glob("*-seed*.jsonl")):
            if path.name.startswith(("candidate", "critique")):
                print(f"{run.name}/{path.name}: {json.dumps(rates(path, args.words))}")


if __name__ == "__main__":
    main()

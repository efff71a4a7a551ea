"""Bad input, as a user would type or save it: one `error:` line naming the problem, exit 2,
before any stage runs and with no result written. Each row was a traceback or was silently
accepted before; the README's "Reliability" counts are this table's rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fault_helpers import TINY, cli, one_error_line

LOCAL = ["data.name=local", "data.max_examples=0"]


def rows(n: int = 90, **override) -> list[dict]:
    out = [{"text": f"review number {i} says {'good' if i % 2 else 'bad'}", "label": i % 2} for i in range(n)]
    for i, row in override.items():
        out[int(i.removeprefix("r"))] = row
    return out


def jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def local(tmp: Path, name: str, content: bytes) -> list[str]:
    (tmp / name).write_bytes(content)
    return [*LOCAL, f"data.path={tmp / name}"]


CONFIG = {  # case → (overrides, what the one line must say)
    "unclosed list": (["seeds=[0"], "override 'seeds=[0' does not parse"),
    "eval_batch_size=0": (["strong.train.eval_batch_size=0"], "strong.train: eval_batch_size=0 must be"),
    "log_every=0": (["weak.train.log_every=0"], "weak.train: log_every=0 must be"),
    "lr=-1": (["strong.train.lr=-1"], "strong.train: lr=-1.0 must be a finite number > 0"),
    "lr=nan": (["strong.train.lr=nan"], "strong.train: lr=nan must be a finite number > 0"),
    "lr=inf": (["weak.train.lr=inf"], "weak.train: lr=inf must be"),
    "batch_size=0": (["weak.train.batch_size=0"], "weak.train: batch_size=0 must be"),
    "warmup_frac=1.5": (["strong.train.warmup_frac=1.5"], "warmup_frac=1.5 must be in [0, 1)"),
    "head_dropout=2": (["strong.model.head_dropout=2"], "strong.model: head_dropout=2.0"),
    "max_length=0": (["weak.model.max_length=0"], "weak.model: max_length=0 must be"),
    "layer=99": (["strong.model.layer=99"], "layer=99, but minilm-l6 has 6 layers"),
    "negative seed": (["seeds=[-10000]"], "each seed must be in [0, 2^31)"),
    "device=tpu": (["device=tpu"], "device='tpu'; use auto, cpu, cuda or cuda:N"),
    "device=gpu": (["device=gpu"], "device='gpu'"),
    "device=cuda without CUDA": (["device=cuda"], "device=cuda: this torch sees no CUDA device"),
    "name outside out_dir": (["name=/tmp/elsewhere"], "name='/tmp/elsewhere' must be one folder name inside out_dir"),
    "name climbing up": (["name=../up"], "name='../up' must be one folder name"),
    "secret from the environment": (["wandb.group=${oc.env:WANDB_API_KEY}"],
                                    "wandb.group calls a resolver (${oc.env:WANDB_API_KEY}); resolver interpolation is refused"),
    "secret through a computed resolver name": (["wandb.tags=[env]", "name=${oc.${wandb.tags.0}:WANDB_API_KEY}"],
                                                "name calls a resolver (${oc.${wandb.tags.0}:WANDB_API_KEY})"),
    "name with a space": (["name=my run"], "name='my run' must be one folder name inside out_dir"),
    "name starting with a dash": (["name=-rf"], "name='-rf' must be one folder name"),
    "unknown key": (["weak.modle=x"], "unknown config key 'weak.modle'"),
    "wrong type": (["split.test=lots"], "split.test"),
    "unknown loss": (["w2s.student.loss=xnet"], "did you mean"),
}
ORGANISMS = {  # case → (overrides of configs/organisms_backdoor.yaml, what the one line must say)
    "unknown item of a default named list": (["organisms.candidates.foo.pct=2"],
                                             "organisms.candidates: no item named 'foo'; the list holds backdoor, password_locked, sandbagging"),
    "a named item set whole": (["organisms.detectors.low_confidence=3"], "set the item's fields"),
    "unknown detector": (["organisms.detectors=[oracle]"], "unknown detector 'oracle'"),
    "trusted set larger than weak_train": (["organisms.trusted=5000"], "exceeds split.weak_train=30"),
    "backdoor trigger placement": (["organisms.organism.position=middle"], "backdoor position='middle'"),
    "empty blind draw": (["organisms.blind=true", "organisms.candidates=[]"], "organisms.candidates, which is empty"),
    "more demonstrations than trusted rows": (["organisms.trusted=20", "organisms.elicit=[4,40]"],
                                              "organisms.elicit=[4, 40]: distinct demonstration counts from 1 to organisms.trusted (20)"),
    "an unknown locked policy": (["organisms.organism={name: password_locked, locked: strong}"],
                                 "password_locked locked='strong'; choose one of weak, constant"),
}


@pytest.mark.parametrize("case", sorted(CONFIG))
def test_bad_config_value_is_one_line_before_any_stage(case, tmp_path):
    overrides, says = CONFIG[case]
    line = one_error_line(*cli("run", *TINY, *overrides, f"out_dir={tmp_path}")[::2])
    assert says in line, line
    assert not (tmp_path / "_stages").exists() and not list(tmp_path.rglob("results.json"))


@pytest.mark.parametrize("case", sorted(ORGANISMS))
def test_bad_organisms_value_is_one_line_before_any_stage(case, tmp_path):
    overrides, says = ORGANISMS[case]
    line = one_error_line(*cli("run", "organisms_backdoor", *TINY, *overrides, f"out_dir={tmp_path}")[::2])
    assert says in line, line
    assert not (tmp_path / "_stages").exists() and not list(tmp_path.rglob("results.json"))


def test_secret_in_a_yaml_file_is_refused(tmp_path):
    config = tmp_path / "shared.yaml"
    config.write_text("protocol: w2s\ndata:\n  name: local\n  path: ${oc.env:HOME}/data.jsonl\n")
    line = one_error_line(*cli("run", str(config), f"out_dir={tmp_path}")[::2])
    assert f"{config}: data.path calls a resolver (${{oc.env:HOME}})" in line


def test_unwritable_out_dir(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    line = one_error_line(*cli("run", *TINY, f"out_dir={blocker}/runs")[::2])
    assert "cannot write the run directory" in line and str(blocker) in line


DATA = {  # case → (file name, bytes, what the one line must say)
    "empty .json": ("d.json", b"", "cannot be parsed"),
    "empty .parquet": ("d.parquet", b"", "is not a readable parquet file"),
    "non-UTF-8 .jsonl": ("d.jsonl", b'{"text": "caf\xe9", "label": 1}\n', "is not UTF-8 text"),
    "non-UTF-8 .csv": ("d.csv", b"text,label\ncaf\xe9,1\n", "is not UTF-8 text"),
    "unequal column lengths": ("d.json", json.dumps({"text": ["a b", "c d", "e f"], "label": [0, 1]}).encode(),
                               "columns have unequal lengths (text: 3, label: 2)"),
    "NaN label": ("d.jsonl", "".join(json.dumps(r) + "\n" for r in rows(r17={"text": "fine", "label": float("nan")})).encode(),
                  "row 17 has no value in label column 'label' (nan)"),
    "null label": ("d.jsonl", "".join(json.dumps(r) + "\n" for r in rows(r5={"text": "fine", "label": None})).encode(),
                   "row 5 has no value in label column 'label'"),
    "empty label": ("d.csv", ("text,label\n" + "".join(f"t {i},{i % 2}\n" for i in range(40)) + "t x,\n").encode(),
                    "row 40 has no value in label column 'label'"),
    "list label": ("d.jsonl", "".join(json.dumps(r) + "\n" for r in rows(r3={"text": "fine", "label": [0, 1]})).encode(),
                   "row 3 of label column 'label' is a list"),
    "booleans beside numbers": ("d.jsonl", "".join(json.dumps(r) + "\n" for r in rows(r4={"text": "fine", "label": True})).encode(),
                                "mixes booleans (row 4: True) and numbers (row 0: 0)"),
    "infinite label": ("d.jsonl", "".join(json.dumps(r) + "\n" for r in rows(r9={"text": "fine", "label": float("inf")})).encode(),
                       "row 9 of label column 'label' is inf, not a label"),
    "every text repeated with two labels": ("d.jsonl", "".join(json.dumps({"text": "same", "label": i % 2}) + "\n" for i in range(40)).encode(),
                                            "no example left after dropping repeated texts"),
    "empty text names the file row": ("d.jsonl", "".join(json.dumps(r) + "\n" for r in rows(r57={"text": "  ", "label": 1})).encode(),
                                      "row 57 of column 'text' is empty"),
}


@pytest.mark.parametrize("case", sorted(DATA))
def test_bad_data_file_is_one_line_naming_it(case, tmp_path):
    name, content, says = DATA[case]
    line = one_error_line(*cli("run", *TINY, *local(tmp_path, name, content), f"out_dir={tmp_path / 'out'}")[::2])
    assert says in line and name in line, line
    assert not (tmp_path / "out" / "_stages").exists()


def test_whole_float_labels_are_the_integer_class():
    from oversight.data.sources.local import ColumnsConfig, map_columns

    table = {"text": ["a", "b", "c", "d", "e"], "label": [1, 1.0, 0, "0.0", " 1"]}
    ds = map_columns("t", table, ColumnsConfig(name="local", path="t"))
    assert ds.classes == ["0", "1"] and ds.labels.tolist() == [1, 1, 0, 0, 1]


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path):
    from oversight.data.sources.local import _read_table

    path = tmp_path / "excel.csv"
    path.write_bytes("text,label\ngood,1\nbad,0\n".encode("utf-8-sig"))
    assert _read_table(path) == {"text": ["good", "bad"], "label": ["1", "0"]}


"""Config merging (defaults → YAML → key=value) and its one-line errors."""

from pathlib import Path

import pytest

from oversight.config import DEFAULT_CONFIG, config_to_yaml, load_config
from oversight.errors import ConfigError


def test_default_file_loads_with_protocol_section():
    exp = load_config(DEFAULT_CONFIG)
    assert exp.run.protocol == "w2s"
    assert exp.run.seeds == [0, 1, 2]
    assert exp.protocol.student.loss.name == "logconf"
    assert "w2s:" in config_to_yaml(exp)


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[1] / "oversight" / "configs").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_bundled_config_loads(path):
    exp = load_config(path)  # every key known and every value checked, as a run would before its first stage
    assert exp.run.seeds


def test_yaml_then_overrides_win(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("seeds: [5]\nweak:\n  train: {lr: 0.5}\n")
    exp = load_config(path, ["weak.train.lr=0.25", "w2s.hard_labels=true", "strong.model.mode=lora"])
    assert exp.run.seeds == [5]
    assert exp.run.weak.train.lr == 0.25
    assert exp.protocol.hard_labels is True
    assert exp.run.strong.model.mode == "lora"


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (["weak.modle=x"], "unknown config key 'weak.modle'"),
        (["split.test=many"], "split.test"),
        (["weak.train.lr=fast"], "weak.train.lr"),
        (["protocol=nope"], "unknown protocol 'nope'"),
        (["strong.model.mode=half"], "mode='half'"),
        (["seeds=[]"], "seeds is empty"),
        (["seedz"], "not key=value"),
        (["wandb.mode=sometimes"], None),  # checked when the logger starts; config types still pass
    ],
)
def test_bad_values_raise_one_line_naming_the_key(overrides, expected):
    if expected is None:
        load_config(DEFAULT_CONFIG, overrides)
        return
    with pytest.raises(ConfigError) as err:
        load_config(DEFAULT_CONFIG, overrides)
    message = str(err.value)
    assert expected in message and "\n" not in message


def test_unknown_key_in_yaml_and_missing_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("strong:\n  modell: {model: x}\n")
    with pytest.raises(ConfigError, match="unknown config key 'strong.modell'"):
        load_config(path)
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("seeds: [1\n")
    with pytest.raises(ConfigError, match="cannot parse"):
        load_config(tmp_path / "bad.yaml")


def test_judged_w2s_has_no_weak_section():
    """A judge supervises, so no weak model is trained: the run config has no weak: section, a shared
    base file's is dropped, and one given on the command line is an error naming why."""
    debate = load_config("configs/w2s_debate.yaml")
    assert debate.run.weak is None and "weak:" not in config_to_yaml(debate)
    assert load_config("configs/w2s_default.yaml", ["w2s.judged.scheme.name=debate"]).run.weak is None
    assert load_config("configs/w2s_default.yaml").run.weak is not None
    with pytest.raises(ConfigError, match=r"^w2s: w2s.judged is set \(a judge supervises\), so weak.\* is unused; remove it$"):
        load_config("configs/w2s_debate.yaml", ["weak.model.model=minilm-l6"])


def test_an_opt_in_field_keeps_earlier_run_names_until_set():
    """`cpu_bf16` came after results were cached: at its default, run names and keys are what they were."""
    from oversight.experiment import default_run_name
    from oversight.keys import key_dict

    then = ["data.name=multiemo_binary", "data.max_examples=5000", "weak.model.model=minilm-l3",  # the default then,
            *(f"{role}.model.{k}" for role in ("weak", "strong") for k in ("lora_alpha=16", "lora_dropout=0.05"))]  # with its LoRA defaults
    exp = load_config("configs/w2s_default.yaml", then)
    assert default_run_name(exp) == "w2s-multiemo_binary-minilm-l3-mpnet-base-dfed5d5b"  # as computed before the field existed
    assert "cpu_bf16" not in key_dict(exp.run.strong.train)
    opted = load_config("configs/w2s_default.yaml", [*then, "strong.train.cpu_bf16=true"])
    assert key_dict(opted.run.strong.train)["cpu_bf16"] is True
    assert default_run_name(opted) != default_run_name(exp)


def test_switching_a_component_keeps_only_the_fields_the_new_one_has():
    """`data.name=quartz` keeps the YAML's data.max_examples; `loss.name=xent` drops logconf's alpha_max."""
    exp = load_config("configs/w2s_default.yaml", ["data.name=quartz", "w2s.student.loss.name=xent"])
    assert (exp.run.data.name, exp.run.data.max_examples) == ("quartz", 5000)
    assert not hasattr(exp.protocol.student.loss, "alpha_max")
    with pytest.raises(ConfigError, match="alpha_max"):
        load_config("configs/w2s_default.yaml", ["w2s.student.loss.name=xent", "w2s.student.loss.alpha_max=0.5"])

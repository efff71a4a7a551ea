"""Run configuration: typed dataclasses merged as defaults → YAML → `key=value` overrides.

The root `RunConfig` composes the shared sections (data, split, weak, strong, wandb); a protocol
reads only the sections it declares (`ProtocolSpec.sections`), the others are absent from its
config, and its own dataclass is the section named after it (`w2s:`), so a new protocol needs no
change here. A component section (`data:`, a loss, a judging scheme, ...) is checked against the
config class of the component its `name:` picks (oversight/slots.py). Struct mode is on: an
unknown key or a value of the wrong type is a `ConfigError` naming the key, before any stage runs.
Nothing here imports torch.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from oversight.data import DataConfig, data_config
from oversight.errors import ConfigError
from oversight.keys import as_plain
from oversight.slots import carry_named_items, drop, specialize, sub_layers
from oversight.tracking import WandbConfig
from oversight.training.config import ClassifierConfig, RoleConfig, TrainConfig

CONFIG_DIR = Path(__file__).resolve().parent / "configs"  # a link to the checkout's configs/, real files in a wheel
DEFAULT_CONFIG = CONFIG_DIR / "w2s_default.yaml"


@dataclass
class SplitConfig:
    weak_train: int = 2000  # examples the weak supervisor trains on with ground truth (half A)
    strong_train: int = 2000  # examples the weak supervisor labels; ceiling and student train on them (half B)
    test: int = 1000  # held-out test examples, the same for every seed


@dataclass
class RunConfig:
    name: str = ""  # run directory name under out_dir ("" = protocol-dataset-weak-strong-<config hash>)
    protocol: str = "w2s"  # registered protocol (`oversight list`)
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])  # one full repetition per seed; CIs are over seeds
    out_dir: str = "runs"  # runs and the shared stage cache live here
    feature_cache: str = ""  # frozen-backbone features shared by every run and out_dir ("" = $OVERSIGHT_CACHE/features)
    device: str = "auto"  # auto (CUDA if present) | cpu | cuda | cuda:N
    offline: bool | None = None  # never touch the model hub (None = follow HF_HUB_OFFLINE / OVERSIGHT_OFFLINE)
    bootstrap: int = 2000  # resamples of the paired bootstrap (seeds x test examples) behind the headline intervals
    wandb: WandbConfig = field(default_factory=WandbConfig)
    # shared sections; a protocol that does not read one has it absent (None)
    data: DataConfig | None = field(default_factory=lambda: data_config("sarcasm", max_examples=5000))
    split: SplitConfig | None = field(default_factory=SplitConfig)
    weak: RoleConfig | None = field(default_factory=lambda: role("minilm-l6"))  # the weak supervisor
    strong: RoleConfig | None = field(default_factory=lambda: role("mpnet-base"))  # the strong model (ceiling; students use its model)


DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")
SECTIONS = ("data", "split", "weak", "strong")  # what a protocol may declare it reads


def role(model: str) -> RoleConfig:
    """The default experiment's role: a probe on `model`, 10 epochs, strong weight decay."""
    return RoleConfig(ClassifierConfig(model=model, mode="probe"), TrainConfig(epochs=10, lr=1e-3, batch_size=32, weight_decay=1.0))


@dataclass
class ExperimentConfig:
    """The resolved run config plus the chosen protocol's own section."""

    run: RunConfig
    protocol: Any

    def as_dict(self, scientific: bool = False) -> dict[str, Any]:
        """Every key, or with `scientific` only what changes a result (no `unkeyed` field: logging,
        checkpoints, where a server lives)."""
        run = {k: v for k, v in as_plain(self.run, scientific).items() if v is not None or k not in SECTIONS}
        return {**run, self.run.protocol: as_plain(self.protocol, scientific)}


def _one_line(err: OmegaConfBaseException) -> str:
    key = getattr(err, "full_key", None) or ""
    msg = str(err).splitlines()[0] if str(err) else type(err).__name__
    kind = type(err).__name__
    if "ConfigKeyError" in kind or "ConfigAttributeError" in kind:
        return f"unknown config key '{key}'" if key else msg
    return f"bad value for config key '{key}': {msg}" if key else msg


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML file of settings as a plain dict, unresolved: the one YAML reader of configs, sweeps and run dirs."""
    return OmegaConf.to_container(_load_yaml(path), resolve=False)


def bundled_configs() -> dict[str, list[Path]]:
    """The configs that ship with oversight: experiments (configs/*.yaml) and sweeps (configs/sweeps/)."""
    return {"experiments": sorted(CONFIG_DIR.glob("*.yaml")), "sweeps": sorted((CONFIG_DIR / "sweeps").glob("*.yaml"))}


def describe_config(path: Path) -> str:
    """The first sentence of a config file's leading comment: what it runs."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# ").strip())
    text = " ".join(lines)
    end = _SENTENCE_END.search(text)
    return text[: end.start() + 1] if end else text


_SENTENCE_END = re.compile(r"(?<!\bal)(?<!\be\.g)(?<!\bi\.e)(?<!\bsec)\.\s")  # not "et al. 2024" nor "sec. 4"


def find_config(name: str | Path) -> Path:
    """A config by path (from the working directory), else a bundled one by name from anywhere:
    `debate_digits`, `debate_digits.yaml`, `configs/debate_digits.yaml` or `sweeps/w2s_losses`."""
    path = Path(name).expanduser()
    if path.is_file():
        return path
    stem = Path(str(name).removeprefix("configs/"))
    for candidate in (CONFIG_DIR / stem, CONFIG_DIR / stem.with_suffix(".yaml"),
                      CONFIG_DIR / "sweeps" / stem, CONFIG_DIR / "sweeps" / stem.with_suffix(".yaml")):
        if candidate.is_file():
            return candidate
    names = [p.stem for paths in bundled_configs().values() for p in paths]
    close = difflib.get_close_matches(stem.stem, names, n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    raise ConfigError(f"config file not found: {name} (not a file here, nor a bundled config{hint} `oversight configs` lists them)")


def _load_yaml(path: str | Path) -> DictConfig:
    path = find_config(path)
    try:
        loaded = OmegaConf.load(path)
    except Exception as err:  # yaml.YAMLError and friends: report, don't dump a traceback
        raise ConfigError(f"cannot parse {path}: {str(err).splitlines()[0]}") from err
    if not isinstance(loaded, DictConfig):
        raise ConfigError(f"{path} must hold a mapping of config keys")
    return loaded


def _parse_overrides(overrides: list[str]) -> list[DictConfig]:
    """One layer per `key=value`, applied in order (so `schemes=[...]` then `schemes.debate.rounds=3` compose)."""
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not key=value")
    return [parse_override(item) for item in overrides]


def parse_override(item: str) -> DictConfig:
    """One `key=value` as a config layer; a value that does not parse is a one-line ConfigError."""
    try:
        return OmegaConf.from_dotlist([item])
    except OmegaConfBaseException as err:
        raise ConfigError(_one_line(err)) from err
    except Exception as err:  # a YAML value that does not parse (`seeds=[0`)
        raise ConfigError(f"override {item!r} does not parse: {str(err).splitlines()[0]}") from err


_RUN_NAME = re.compile(r"[^\s\x00-\x1f/\\._-][^\s\x00-\x1f/\\]*")  # one path part: no space, control character, slash or backslash


def refuse_environment(layer: DictConfig, where: str) -> None:
    """Only `${a.b}` references are allowed in a config: a resolver call such as `${oc.env:VAR}`,
    however it is spelled (`${oc.${x}:VAR}` computes the resolver's name), is refused. Its value
    would reach the run name, config.yaml, results.json and wandb, and a shared YAML could so
    publish a secret such as WANDB_API_KEY. Read from OmegaConf's own parse of each value."""
    def visit(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                visit(v, f"{path}.{k}" if path else str(k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                visit(v, f"{path}[{i}]")
        elif isinstance(node, str) and "${" in node and (call := _resolver_call(node, where, path)):
            raise ConfigError(f"{where}: {path} calls a resolver ({call}); resolver interpolation is refused so no environment "
                              f"variable or secret reaches run files (only ${{a.b}} references are allowed); pass {path}=<value>")

    visit(OmegaConf.to_container(layer, resolve=False), "")


def _resolver_call(value: str, where: str, path: str) -> str | None:
    """The first resolver call in `value` as written (`${oc.env:WANDB_API_KEY}`), or None."""
    from omegaconf import grammar_parser
    from omegaconf.grammar.gen.OmegaConfGrammarParser import OmegaConfGrammarParser as Grammar

    try:
        tree = grammar_parser.parse(value)
    except Exception as err:  # noqa: BLE001 -- the grammar's own errors
        raise ConfigError(f"{where}: {path} = {value!r} is not a valid interpolation: {str(err).splitlines()[0]}") from err
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Grammar.InterpolationResolverContext):
            return node.getText()
        stack.extend(node.getChildren() if hasattr(node, "getChildren") else [])
    return None


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> ExperimentConfig:
    """defaults → YAML file (if any) → `key=value` overrides, checked against the dataclasses."""
    from oversight.protocols import PROTOCOLS

    layers = [_load_yaml(path)] if path else []
    layers += _parse_overrides(overrides or [])
    for layer, where in zip(layers, ([str(path)] if path else []) + ["command line"] * len(overrides or []), strict=True):
        refuse_environment(layer, where)
    protocol = RunConfig.protocol
    for layer in layers:
        protocol = layer.get("protocol", protocol)
    spec = PROTOCOLS.get(str(protocol))
    unread = [s for s in SECTIONS if s not in spec.sections]
    for layer in layers:
        for section in unread:
            if section in layer:
                raise ConfigError(f"protocol {spec.name} does not read a {section}: section; remove it")
    schema = OmegaConf.structured(RunConfig)
    OmegaConf.set_struct(schema, False)
    schema[spec.name] = OmegaConf.structured(spec.config_cls)
    for section in unread:
        schema[section] = None
    OmegaConf.set_struct(schema, True)
    try:
        carry_named_items(layers, defaults=OmegaConf.create(OmegaConf.to_container(schema)))
        lists = specialize(schema, RunConfig, layers)
        lists += specialize(schema[spec.name], spec.config_cls, sub_layers(layers, spec.name), f"{spec.name}.")
        for layer in layers:
            for dotted in lists:
                drop(layer, dotted)
        merged = OmegaConf.merge(schema, *layers)
        proto_obj = OmegaConf.to_object(merged[spec.name])
        OmegaConf.set_struct(merged, False)
        del merged[spec.name]
        run = OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:
        raise ConfigError(_one_line(err)) from err
    except TypeError as err:  # OmegaConf's own: a mapping set where the schema holds a list, or the reverse
        raise ConfigError(f"a key=value edits a list as a mapping, or a mapping as a list ({err})") from err
    # Sections the protocol's own settings leave unread are dropped (a shared base file may hold
    # them); set on the command line, they are a mistake worth an error.
    for section, reason in getattr(proto_obj, "unread_sections", dict)().items():
        if any(section in layer for layer in layers[1 if path else 0 :]):
            raise ConfigError(f"{spec.name}: {reason}, so {section}.* is unused; remove it")
        setattr(run, section, None)
    exp = ExperimentConfig(run=run, protocol=proto_obj)
    validate(exp)
    return exp


def _check_parts(node: Any, where: str) -> None:
    """`validate()` every model and training config in a section, naming it: `strong.train: ...`."""
    if isinstance(node, (TrainConfig, ClassifierConfig)):
        try:
            node.validate()
        except ConfigError as err:
            raise ConfigError(f"{where}: {err}") from err
    if is_dataclass(node):
        for f in fields(node):
            _check_parts(getattr(node, f.name), f"{where}.{f.name}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _check_parts(item, f"{where}[{i}]")


def validate(exp: ExperimentConfig) -> None:
    run = exp.run
    if run.bootstrap < 100:
        raise ConfigError(f"bootstrap={run.bootstrap}: use at least 100 resamples for a 95% interval")
    if not run.seeds:
        raise ConfigError("seeds is empty; give at least one seed")
    if len(set(run.seeds)) != len(run.seeds):
        raise ConfigError(f"seeds {run.seeds} repeat a seed")
    if any(not 0 <= s < 2**31 for s in run.seeds):
        raise ConfigError(f"seeds {run.seeds}: each seed must be in [0, 2^31)")
    if run.name and not _RUN_NAME.fullmatch(run.name):
        raise ConfigError(f"name={run.name!r} must be one folder name inside out_dir: no space, slash, backslash or control "
                          "character, not starting with '.', '_' or '-'")
    if not DEVICE.fullmatch(run.device):
        raise ConfigError(f"device={run.device!r}; use auto, cpu, cuda or cuda:N")
    for section in ("weak", "strong"):
        _check_parts(getattr(run, section), section)
    _check_parts(exp.protocol, run.protocol)
    if run.split is not None:
        for key in ("strong_train", "test"):
            if getattr(run.split, key) <= 0:
                raise ConfigError(f"split.{key} must be positive")
        if run.split.weak_train < 0:
            raise ConfigError("split.weak_train must be >= 0")
    check_run = getattr(exp.protocol, "check_run", None)
    if check_run is not None:  # the protocol's own rules across sections (e.g. what split.weak_train must be)
        check_run(run)


# Keys that name where/how a run is recorded, not what it computes; excluded from the run's hash.
NON_SCIENTIFIC = ("name", "out_dir", "feature_cache", "wandb", "device", "offline")


def config_to_yaml(exp: ExperimentConfig, for_hash: bool = False) -> str:
    """The resolved config as YAML; `for_hash`: only what changes a result (the run name's hash)."""
    data = exp.as_dict(scientific=for_hash)
    if for_hash:
        data = {k: v for k, v in data.items() if k not in NON_SCIENTIFIC}
    return OmegaConf.to_yaml(OmegaConf.create(data))

"""Run configuration: typed dataclasses merged as defaults → YAML → `key=value` overrides.

The root `RunConfig` composes each component's own dataclass (data, models, training, wandb).
The chosen protocol adds its dataclass as a section named after it (`w2s:`), so a new protocol
needs no change here. Struct mode is on: an unknown key or a value of the wrong type is a
`ConfigError` naming the key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from oversight.data import DataConfig
from oversight.errors import ConfigError
from oversight.tracking import WandbConfig
from oversight.training.fit import RoleConfig

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "w2s_default.yaml"


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
    out_dir: str = "runs"  # runs and the shared stage/feature caches live here
    device: str = "auto"  # auto (CUDA if present) | cpu | cuda | cuda:N
    offline: bool | None = None  # never touch the model hub (None = follow HF_HUB_OFFLINE / OVERSIGHT_OFFLINE)
    bootstrap: int = 2000  # resamples of the paired bootstrap (seeds x test examples) behind the headline intervals
    data: DataConfig = field(default_factory=DataConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    weak: RoleConfig = field(default_factory=RoleConfig)  # the weak supervisor
    strong: RoleConfig = field(default_factory=RoleConfig)  # the strong model (ceiling and student)
    wandb: WandbConfig = field(default_factory=WandbConfig)


@dataclass
class ExperimentConfig:
    """The resolved run config plus the chosen protocol's own section."""

    run: RunConfig
    protocol: Any

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self.run), self.run.protocol: asdict(self.protocol)}


def _one_line(err: OmegaConfBaseException) -> str:
    key = getattr(err, "full_key", None) or ""
    msg = str(err).splitlines()[0] if str(err) else type(err).__name__
    kind = type(err).__name__
    if "ConfigKeyError" in kind or "ConfigAttributeError" in kind:
        return f"unknown config key '{key}'" if key else msg
    return f"bad value for config key '{key}': {msg}" if key else msg


def _load_yaml(path: str | Path) -> DictConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        loaded = OmegaConf.load(path)
    except Exception as err:  # yaml.YAMLError and friends: report, don't dump a traceback
        raise ConfigError(f"cannot parse {path}: {str(err).splitlines()[0]}") from err
    if not isinstance(loaded, DictConfig):
        raise ConfigError(f"{path} must hold a mapping of config keys")
    return loaded


def _parse_overrides(overrides: list[str]) -> DictConfig:
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not key=value")
    try:
        return OmegaConf.from_dotlist(list(overrides))
    except OmegaConfBaseException as err:
        raise ConfigError(_one_line(err)) from err


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> ExperimentConfig:
    """defaults → YAML file (if any) → `key=value` overrides, checked against the dataclasses."""
    from oversight.protocols import PROTOCOLS

    layers = [_load_yaml(path)] if path else []
    layers.append(_parse_overrides(overrides or []))
    protocol = RunConfig.protocol
    for layer in layers:
        protocol = layer.get("protocol", protocol)
    spec = PROTOCOLS.get(str(protocol))
    schema = OmegaConf.structured(RunConfig)
    OmegaConf.set_struct(schema, False)
    schema[spec.name] = OmegaConf.structured(spec.config_cls)
    OmegaConf.set_struct(schema, True)
    try:
        merged = OmegaConf.merge(schema, *layers)
        proto_obj = OmegaConf.to_object(merged[spec.name])
        OmegaConf.set_struct(merged, False)
        del merged[spec.name]
        run = OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:
        raise ConfigError(_one_line(err)) from err
    exp = ExperimentConfig(run=run, protocol=proto_obj)
    validate(exp)
    return exp


def validate(exp: ExperimentConfig) -> None:
    run = exp.run
    if run.bootstrap < 100:
        raise ConfigError(f"bootstrap={run.bootstrap}: use at least 100 resamples for a 95% interval")
    if not run.seeds:
        raise ConfigError("seeds is empty; give at least one seed")
    if len(set(run.seeds)) != len(run.seeds):
        raise ConfigError(f"seeds {run.seeds} repeat a seed")
    for role in ("weak", "strong"):
        for part in ("model", "train"):
            try:
                getattr(getattr(run, role), part).validate()
            except ConfigError as err:  # name the section: `strong.train: select='x'; ...`
                raise ConfigError(f"{role}.{part}: {err}") from err
    for key in ("strong_train", "test"):
        if getattr(run.split, key) <= 0:
            raise ConfigError(f"split.{key} must be positive")
    judge_supervised = run.protocol == "judging" or getattr(exp.protocol, "supervision", "weak") != "weak"
    if run.split.weak_train < 0 or (run.split.weak_train == 0 and not judge_supervised):
        raise ConfigError("split.weak_train must be positive (0 only when a judge, not a weak model, supervises)")
    judging = exp.protocol if hasattr(exp.protocol, "judge") else getattr(exp.protocol, "judging", None)
    if judge_supervised and judging.judge.kind == "classifier" and run.split.weak_train == 0:
        raise ConfigError("judge.kind=classifier learns from the gold labels of split.weak_train's items, disjoint "
                          "from the pool it labels; set split.weak_train > 0")


# Keys that name where/how a run is recorded, not what it computes; excluded from the run's hash.
NON_SCIENTIFIC = ("name", "out_dir", "wandb", "device")


def config_to_yaml(exp: ExperimentConfig, for_hash: bool = False) -> str:
    data = exp.as_dict()
    if for_hash:
        data = {k: v for k, v in data.items() if k not in NON_SCIENTIFIC}
    return OmegaConf.to_yaml(OmegaConf.create(data))

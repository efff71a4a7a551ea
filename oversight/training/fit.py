"""One model in one role: build it, train it on given targets, predict class probabilities.

`Learner` hides the difference between a probe (a linear head on cached frozen features, so the
backbone runs once per dataset) and fine-tuning (full or LoRA, on tokenized batches). Protocols
only ask it to `fit` on some examples and `predict` others.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from oversight.data import TextDataset
from oversight.errors import ConfigError
from oversight.models import resolve_model
from oversight.training import distributed as dist
from oversight.training import sharding
from oversight.training.batching import FeatureSource, TokenSource, tokenize
from oversight.training.checkpoint import TrainState, trainable_state
from oversight.training.classifier import build_feature_head, build_text_classifier
from oversight.training.config import ClassifierConfig, TrainConfig
from oversight.training.device import seed_everything
from oversight.training.features import cached_features
from oversight.training.trainer import predict, train
from oversight.training.weights import load_checked, save_tensors


@dataclass
class Workspace:
    """What every learner shares in a run: device, feature cache, offline flag, logging."""

    device: torch.device
    feature_cache: Path
    offline: bool | None = None
    log: object = None  # callable(metrics: dict, stage: str) or None
    table: object = None  # callable(name, columns, rows): a wandb table, or None
    run_dir: Path | None = None  # the run's directory, for artifacts a protocol publishes (transcripts)


class Learner:
    def __init__(self, cfg: ClassifierConfig, dataset: TextDataset, ws: Workspace) -> None:
        cfg.validate()
        self.cfg, self.dataset, self.ws = cfg, dataset, ws
        self.resolved = resolve_model(cfg.model, offline=ws.offline, revision=cfg.revision)
        check_layer(cfg, self.resolved.path)
        self._source = None
        self._features: np.ndarray | None = None  # a probe's features, one row per example (NaN until needed)

    @property
    def model_id(self) -> str:
        """The model's content identity (not its name): what feature and stage keys hold."""
        return self.resolved.identity

    def source(self):
        """What training and prediction batch from: a probe's features (rows filled by `ensure` first),
        or the tokens (fine-tuning)."""
        if self._source is None:
            if self.cfg.mode == "probe":
                raise RuntimeError("a probe's feature rows are filled by ensure(indices) before batching")
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(self.resolved.path)
            self._source = TokenSource(tokenize(tokenizer, self.dataset.texts, self.cfg.max_length))
        return self._source

    def ensure(self, indices: np.ndarray, batch_size: int = 256) -> None:
        """A probe's features for the rows at `indices`, from the shared store (computing only new texts).

        Rows never asked for stay NaN, so a bug that read one would fail the finiteness checks
        instead of training on zeros.
        """
        if self.cfg.mode != "probe":
            return
        need = np.unique(np.asarray(indices, dtype=np.int64))
        if self._features is not None:
            need = need[~self._have[need]]
        if not len(need):
            return
        rows = cached_features(self.ws.feature_cache, self.resolved.identity, self.resolved.path,
                               [self.dataset.texts[i] for i in need], self.cfg, batch_size, self.ws.device, label=self.cfg.model)
        if self._features is None:
            self._features = np.full((len(self.dataset), rows.shape[1]), np.nan, dtype=np.float32)
            self._have = np.zeros(len(self.dataset), dtype=bool)
            self._source = FeatureSource(self._features)  # shares the matrix: later rows appear in it
        self._features[need] = rows
        self._have[need] = True

    def features(self, indices: np.ndarray) -> np.ndarray:
        """A probe's feature rows at `indices`."""
        self.ensure(indices)
        return self._features[np.asarray(indices)]

    def build(self, train_idx: np.ndarray, seed: int) -> torch.nn.Module:
        seed_everything(seed)
        n_classes = len(self.dataset.classes)
        if self.cfg.mode == "probe":
            return build_feature_head(torch.from_numpy(self.features(train_idx)), n_classes, self.cfg.head_dropout)
        _, model = build_text_classifier(self.cfg, self.resolved.path, n_classes)
        if self.cfg.compile and self.ws.device.type == "cuda":
            model = torch.compile(model)
        return model

    def fit(self, train_cfg: TrainConfig, train_idx: np.ndarray, targets: np.ndarray, seed: int,
            workdir: Path, stage: str, gold_targets: bool = True, init: Path | None = None) -> tuple[torch.nn.Module, TrainState]:
        """Train a fresh model (or the weights `save` wrote to `init`) on `targets` rows of `train_idx`;
        resumes from `workdir/train.ckpt`.

        Returns the model with the weights `train_cfg.select` keeps, and the final TrainState.
        """
        self.ensure(train_idx, train_cfg.eval_batch_size)
        model = self.build(train_idx, seed) if init is None else self.load(init, train_idx, seed)
        source = self.source()
        key = Path(workdir).name.removesuffix(".partial")  # which computation: a resumed one logs no step twice
        log = (lambda m: self.ws.log({**m, "stage_key": key}, stage)) if self.ws.log else (lambda m: None)
        state = train(model, source, np.asarray(train_idx), targets, train_cfg, seed, self.ws.device, log,
                      checkpoint=Path(workdir) / "train.ckpt", desc=f"{stage} {self.cfg.model}", gold_targets=gold_targets)
        return model, state

    def predict(self, model: torch.nn.Module, indices: np.ndarray, train_cfg: TrainConfig, desc: str) -> np.ndarray:
        self.ensure(indices, train_cfg.eval_batch_size)
        return predict(model, self.source(), np.asarray(indices), train_cfg.eval_batch_size,
                       self.ws.device, train_cfg.autocasts(self.ws.device), desc=desc)

    def states(self, model: torch.nn.Module, indices: np.ndarray, train_cfg: TrainConfig, every_layer: bool = False) -> np.ndarray:
        """The pooled hidden states its head reads at `indices`: a probe's frozen features, or the fine-tuned
        model's; with `every_layer`, [n, layers + 1, hidden] (a probe has its one feature layer)."""
        if self.cfg.mode == "probe":
            features = self.features(indices)
            return features[:, None] if every_layer else features
        from oversight.training.states import pooled_states

        return pooled_states(model, self.source(), np.asarray(indices), train_cfg.eval_batch_size, self.ws.device,
                             train_cfg.autocasts(self.ws.device), every_layer=every_layer)

    def head_layer(self, model: torch.nn.Module) -> int:
        """Which of `states(..., every_layer=True)`'s layers the head reads (a probe's one layer; else the model's `layer`, -1 the last)."""
        return -1 if self.cfg.mode == "probe" else int(model.layer)

    def save(self, model: torch.nn.Module, path: Path) -> None:
        """Every rank calls it (a sharded model's weights are gathered whole); rank 0 writes."""
        state = sharding.gathered(saved_state(model))
        if dist.is_main():
            save_tensors(path, state)

    def load(self, path: Path, train_idx: np.ndarray, seed: int) -> torch.nn.Module:
        """A fresh model with the saved weights; the file must hold exactly what `save` writes for it."""
        model = self.build(train_idx, seed)
        load_checked(model, path, expected=saved_state(model))
        return model.to(self.ws.device)


def saved_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """What a stage keeps of a trained model: the trained weights and a probe's standardization."""
    state = trainable_state(model)
    state.update({k: v for k, v in model.state_dict().items() if k in ("mean", "std")})
    return state


def check_layer(cfg: ClassifierConfig, path: str) -> None:
    """`cfg.layer` indexes the model's hidden states (embeddings + one per layer), read off config.json."""
    try:
        config = json.loads((Path(path) / "config.json").read_text())
    except (OSError, ValueError):
        return  # the loader will name a missing or broken config itself
    layers = next((config[k] for k in ("num_hidden_layers", "n_layer", "num_layers") if isinstance(config.get(k), int)), None)
    if layers is not None and not -(layers + 1) <= cfg.layer <= layers:
        raise ConfigError(f"layer={cfg.layer}, but {cfg.model} has {layers} layers "
                          f"(hidden states 0..{layers}, or -1..-{layers + 1} from the end)")

"""The typed context every protocol's `run_seed(ctx, seed)` works with, below the protocols.

`Context` holds the run config, the protocol's own section, the data, the stage store and the
workspace. Every stage goes through `run_stage` (store, console line, metrics record together);
`train_stage` and `label_stage` key a training or labelling stage by exactly what it uses
(`train_spec`). The W2S recipe's steps (Burns et al. 2023) are methods, so a protocol reads as
the paper does: `supervisor` → `weak_labels` → `student`, against the `ceiling`.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from oversight import progress
from oversight.config import ExperimentConfig, RunConfig
from oversight.data import TextDataset
from oversight.keys import key_dict
from oversight.protocols.splits import Split, make_split
from oversight.stages import StageResult, StageStore, digest
from oversight.training import distributed as dist
from oversight.training import sharding
from oversight.training.config import TrainConfig
from oversight.training.fit import Learner, Workspace
from oversight.training.trainer import soft_targets


def train_spec(fingerprint: str, model_cfg, model_id: str, train_cfg: TrainConfig, seed: int, train_idx: np.ndarray,
               targets: np.ndarray, test_idx: np.ndarray) -> dict[str, Any]:
    """What a training stage is keyed by: the data, the role's model and training config (with only
    the chosen loss's own fields), the seed, and the examples and targets it trains and tests on."""
    return {"data": fingerprint, "model": key_dict(model_cfg), "model_id": model_id, "train": key_dict(train_cfg), "seed": seed,
            "train_idx": digest(train_idx), "targets": digest(targets[train_idx]), "test_idx": digest(test_idx)}


class Context:
    """What a protocol's `run_seed` works with: config, data, splits, learners, and every stage through
    `run_stage` (the store, the log line and the metrics record, always together)."""

    def __init__(self, exp: ExperimentConfig, dataset: TextDataset | None, store: StageStore, ws: Workspace) -> None:
        self.cfg: RunConfig = exp.run
        self.protocol_cfg = exp.protocol
        self.dataset, self.store, self.ws = dataset, store, ws
        self._learners: dict[str, Learner] = {}
        self._just_trained: tuple[str, Any] | None = None  # (stage key, model) of the stage computed last, if it trained one
        self.fingerprint = dataset.fingerprint() if dataset is not None else ""  # None: the protocol brings its own data

    def on(self, dataset: TextDataset) -> Context:
        """This run over other data (an organism's, with triggered copies appended): its own learners and stage keys."""
        if dataset is self.dataset:
            return self
        other = copy.copy(self)
        other.dataset, other.fingerprint, other._learners, other._just_trained = dataset, dataset.fingerprint(), {}, None
        return other

    def split(self, seed: int) -> Split:
        return make_split(len(self.dataset), self.cfg.split, self.cfg.data.seed, seed)

    def gold_targets(self) -> np.ndarray:
        return soft_targets(self.dataset.labels, len(self.dataset.classes))

    def targets_from(self, probs: np.ndarray, indices: np.ndarray, hard: bool = False) -> np.ndarray:
        """Training targets over the dataset: a model's `probs` (one-hot argmax if `hard`) at `indices`, zero elsewhere."""
        if hard:
            probs = soft_targets(probs.argmax(-1), probs.shape[1])
        targets = np.zeros((len(self.dataset), probs.shape[1]), dtype=np.float32)
        targets[indices] = probs
        return targets

    def learner(self, model_cfg) -> Learner:
        key = json.dumps(asdict(model_cfg), sort_keys=True)
        if key not in self._learners:
            self._learners[key] = Learner(model_cfg, self.dataset, self.ws)
        return self._learners[key]

    def train_stage(self, kind: str, learner: Learner, train_cfg: TrainConfig, train_idx: np.ndarray,
                    targets: np.ndarray, test_idx: np.ndarray, seed: int, init: StageResult | None = None) -> StageResult:
        """Train on `targets[train_idx]`, save the weights, predict the test set. Cached by its inputs.

        Training starts from the pretrained model, or from the weights another training stage
        saved (`init`, keyed by that stage's key): fine-tuning a trained model further.
        Whether the targets are gold is read off the targets themselves (not declared by the
        caller), so a role trained on a supervisor's labels can never select on gold.
        """
        on_gold = bool(np.array_equal(targets[train_idx], self.gold_targets()[train_idx]))
        spec = train_spec(self.fingerprint, learner.cfg, learner.model_id, train_cfg, seed, train_idx, targets, test_idx)
        if init is not None:
            spec["init"] = init.key

        def compute(workdir: Path):
            start = time.time()
            model, state = learner.fit(train_cfg, train_idx, targets, seed, workdir, stage=f"seed{seed}/{kind}",
                                       gold_targets=on_gold, init=init.path / "model.pt" if init is not None else None)
            learner.save(model, workdir / "model.pt")  # on every rank: a sharded model is gathered to be written
            if not sharding.is_sharded(model):  # a label stage right after reads these weights from memory, not back from the file
                self._just_trained = (Path(workdir).name.removesuffix(".partial"), model)
            test_probs = learner.predict(model, test_idx, train_cfg, desc=f"eval {kind}")
            acc = float((test_probs.argmax(-1) == self.dataset.labels[test_idx]).mean())
            kept = state.kept(train_cfg.select)
            if kept["kept_first_eval"] and dist.is_main() and not progress.hiding():
                print(f"warning: [seed {seed}] {kind}: select={train_cfg.select} kept the first evaluation "
                      f"(step {kept['kept_step']} of {kept['total_steps']}); the model may be undertrained", flush=True)
            return ({"test_acc": acc, "seconds": time.time() - start, "seed": seed, "trained_on": "gold" if on_gold else "labels",
                     **kept}, {"test_probs": test_probs})

        return self.run_stage(kind, spec, compute, seed)

    def label_stage(self, trained: StageResult, learner: Learner, train_cfg: TrainConfig, train_idx: np.ndarray,
                    label_idx: np.ndarray, seed: int) -> StageResult:
        """The trained model's class probabilities on `label_idx`: the weak labels, kept as an artifact."""
        spec = {"model_stage": trained.key, "label_idx": digest(label_idx), "data": self.fingerprint}
        just_trained = self._just_trained[1] if self._just_trained and self._just_trained[0] == trained.key else None

        def compute(workdir: Path):
            start = time.time()
            model = just_trained if just_trained is not None else learner.load(trained.path / "model.pt", train_idx, seed)
            probs = learner.predict(model, label_idx, train_cfg, desc="label")
            acc = float((probs.argmax(-1) == self.dataset.labels[label_idx]).mean())
            return {"label_acc": acc, "seconds": time.time() - start, "seed": seed}, {"probs": probs, "indices": np.asarray(label_idx)}

        return self.run_stage("labels", spec, compute, seed)

    def run_stage(self, kind: str, spec: dict, compute, seed: int, label: str = "") -> StageResult:
        """The stage `kind` keyed by `spec` (reused or computed), logged and printed as `label` (default:
        `kind`), which tells apart stages of one kind on other items (`verdicts_debate-test`)."""
        self._just_trained = None  # held only for the stage right after the one that trained it
        result = self.store.run(kind, spec, compute)
        shown = label or kind
        verb = "reused" if result.reused else "done"
        summary = {k: v for k, v in result.meta.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
                   and not (result.reused and k == "seconds")}  # a reused stage took no time now
        if self.ws.log:
            self.ws.log({**summary, "reused": result.reused}, f"seed{seed}/{shown}")
        if dist.is_main() and not progress.hiding():  # a blind audit prints no stage lines
            numbers = "  ".join(f"{k}={v:.4g}" for k, v in summary.items() if k != "seed")
            print(f"[seed {seed}] {shown:<8} {verb:<6} {result.path}  {numbers}".rstrip())
        return result

    # The weak-to-strong recipe's shared steps (Burns et al. 2023), named as the paper names them.

    def supervisor(self, split: Split, seed: int) -> StageResult:
        """The weak supervisor: weak.model trained as weak.train says on half A's gold labels."""
        return self.train_stage("weak", self.learner(self.cfg.weak.model), self.cfg.weak.train, split.weak_train,
                                self.gold_targets(), split.test, seed)

    def weak_labels(self, supervisor: StageResult, split: Split, seed: int) -> StageResult:
        """The supervisor's class probabilities on half B: the labels a student learns from."""
        return self.label_stage(supervisor, self.learner(self.cfg.weak.model), self.cfg.weak.train, split.weak_train,
                                split.strong_train, seed)

    def ceiling(self, split: Split, seed: int) -> StageResult:
        """The strong ceiling: strong.model trained as strong.train says on half B's gold labels."""
        return self.train_stage("ceiling", self.learner(self.cfg.strong.model), self.cfg.strong.train, split.strong_train,
                                self.gold_targets(), split.test, seed)

    def student(self, label_probs: np.ndarray, split: Split, seed: int, train: TrainConfig, hard: bool = False,
                kind: str = "student") -> StageResult:
        """The strong student: strong.model trained as `train` says on `label_probs` over half B."""
        targets = self.targets_from(label_probs, split.strong_train, hard=hard)
        return self.train_stage(kind, self.learner(self.cfg.strong.model), train, split.strong_train, targets, split.test, seed)

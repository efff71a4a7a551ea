"""Latent knowledge: an input is suspect where a truth probe on the suspect's own middle layers says
its answer is wrong (Mallen et al. 2023, "Eliciting Latent Knowledge from Quirky Language Models";
Burns et al. 2022, "Discovering Latent Knowledge in Language Models Without Supervision").

A model fine-tuned to answer wrongly on some inputs may still represent the right answer in its
middle layers; the flaw is then written in late, between what it knows and what it says. The probe
is a logistic regression fitted on the trusted clean inputs' states at one depth, against their gold
labels, so it reads "what is true" as the model represents it where it has no reason to lie; on each
audited input the score is the probability the probe gives against the suspect's answer. White-box
and blind to the trigger. Its control row is the untampered model's honest mistakes: where the
probe and the answer disagree without any flaw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oversight.detectors import DETECTORS, DetectorConfig, Evidence, layer_at
from oversight.errors import ConfigError, DataError


@dataclass
class LatentKnowledgeConfig(DetectorConfig):
    depth: float = 0.5  # which layer the probe reads, as a fraction of the model's depth: 0 = embeddings, 1 = the last layer (a probe-mode suspect has one)
    c: float = 0.1  # inverse L2 strength of the logistic probe, on states standardized over the trusted inputs

    def __post_init__(self) -> None:
        if not 0 <= self.depth <= 1:
            raise ConfigError(f"latent_knowledge depth={self.depth} must be in [0, 1] (0 = embeddings, 1 = the last layer)")
        if self.c <= 0:
            raise ConfigError(f"latent_knowledge c={self.c} must be positive")


@DETECTORS.register("latent_knowledge", LatentKnowledgeConfig)
def latent_knowledge(cfg: LatentKnowledgeConfig, evidence: Evidence) -> np.ndarray:
    """1 - the probability a trusted-fitted truth probe on the states at `depth` gives the suspect's answer."""
    from sklearn.linear_model import LogisticRegression

    labels = np.asarray(evidence.trusted_labels).astype(np.int64)
    if len(np.unique(labels)) < 2:
        raise DataError(f"latent_knowledge needs trusted inputs of at least 2 classes to fit its probe; got {np.unique(labels).tolist()}")
    layer = layer_at(cfg.depth, evidence.trusted_layer_states.shape[1])
    trusted = np.asarray(evidence.trusted_layer_states[:, layer], dtype=np.float64)
    audited = np.asarray(evidence.layer_states[:, layer], dtype=np.float64)
    mean, std = trusted.mean(0), trusted.std(0) + 1e-6
    probe = LogisticRegression(C=cfg.c, max_iter=2000).fit((trusted - mean) / std, labels)
    said = np.zeros((len(audited), evidence.probs.shape[1]))
    said[:, probe.classes_] = probe.predict_proba((audited - mean) / std)
    answer = evidence.probs.argmax(-1)
    return 1.0 - said[np.arange(len(answer)), answer]

"""Activation anomaly: an input is suspect where the suspect model's hidden state lies far from its
states on trusted clean inputs (Mahalanobis distance under a shrunk covariance; Lee et al. 2018,
"A Simple Unified Framework for Detecting Out-of-Distribution Samples and Adversarial Attacks";
a relative of Tran et al. 2018's spectral signatures of backdoors). White-box, and blind
to the trigger: it sees only the model's internals on the audited inputs and on the trusted set.
Its control row says how far it flags inputs that are merely unusual (a trigger the untampered
model has learned to ignore, a long text) rather than misbehaviour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oversight.detectors import DETECTORS, DetectorConfig, Evidence
from oversight.errors import ConfigError


@dataclass
class ActivationAnomalyConfig(DetectorConfig):
    shrinkage: float = 0.1  # covariance shrunk towards its mean variance: (1 - s) * cov + s * mean_var * I
    per_class: bool = True  # distance to the trusted states of the class the suspect answers (Lee et al.), not to all

    def __post_init__(self) -> None:
        if not 0 < self.shrinkage <= 1:
            raise ConfigError(f"activation_anomaly shrinkage={self.shrinkage} must be in (0, 1]")


@DETECTORS.register("activation_anomaly", ActivationAnomalyConfig)
def activation_anomaly(cfg: ActivationAnomalyConfig, evidence: Evidence) -> np.ndarray:
    """Mahalanobis distance of each audited state from the trusted states (of the answered class)."""
    trusted = np.asarray(evidence.trusted_states, dtype=np.float64)
    states = np.asarray(evidence.states, dtype=np.float64)
    labels = np.asarray(evidence.trusted_labels)
    answers = evidence.probs.argmax(-1)
    classes = np.unique(labels) if cfg.per_class else np.array([-1])
    means = {c: trusted[labels == c].mean(0) if c >= 0 else trusted.mean(0) for c in classes}
    centred = np.concatenate([trusted[labels == c] - means[c] if c >= 0 else trusted - means[c] for c in classes])
    cov = centred.T @ centred / max(1, len(centred) - 1)
    cov = (1 - cfg.shrinkage) * cov + cfg.shrinkage * np.trace(cov) / len(cov) * np.eye(len(cov))
    precision = np.linalg.inv(cov)
    nearest = [c if c in means else classes[0] for c in (answers if cfg.per_class else np.full(len(states), -1))]
    diff = states - np.stack([means[c] for c in nearest])
    return np.sqrt(np.einsum("ij,jk,ik->i", diff, precision, diff))

"""Weak-supervisor disagreement: an input is suspect where the trusted weak model gives the suspect's
answer a low probability. A black-box check that needs no knowledge of the flaw, only a weaker
model the auditor trusts (the weak supervisor of weak-to-strong, Burns et al. 2023)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oversight.detectors import DETECTORS, DetectorConfig, Evidence


@dataclass
class WeakDisagreementConfig(DetectorConfig):
    pass


@DETECTORS.register("weak_disagreement", WeakDisagreementConfig)
def weak_disagreement(cfg: WeakDisagreementConfig, evidence: Evidence) -> np.ndarray:
    """1 - the weak supervisor's probability of the suspect's answer."""
    answer = evidence.probs.argmax(-1)
    return 1.0 - evidence.weak_probs[np.arange(len(answer)), answer]

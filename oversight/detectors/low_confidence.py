"""Low confidence: an input is suspect where the suspect model is unsure of its own answer (one minus
its top class probability). The simplest black-box signal; it catches a model that hedges on
purpose, and says nothing about one that is confidently wrong."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oversight.detectors import DETECTORS, DetectorConfig, Evidence


@dataclass
class LowConfidenceConfig(DetectorConfig):
    pass


@DETECTORS.register("low_confidence", LowConfidenceConfig)
def low_confidence(cfg: LowConfidenceConfig, evidence: Evidence) -> np.ndarray:
    """1 - the suspect's top class probability."""
    return 1.0 - evidence.probs.max(-1)

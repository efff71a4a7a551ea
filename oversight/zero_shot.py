"""A label-free floor: the strong model's zero-shot guess, with no training labels at all.

Hase et al. 2024 measure easy-to-hard transfer as SGR = (easy - floor) / (hard - floor) with an
*unsupervised* floor (zero-shot prompting), not a majority-class one: how much of the hard-trained
model's edge over what the model knows unprompted does easy supervision recover. For the sentence
encoders a probe reads, the zero-shot guess is embedding similarity: each class is embedded as a
short prompt (`template`, e.g. "This review is {label}.") with the same backbone, layer and pooling
as the probe's features, and a text takes the class whose prompt embedding is closest (cosine).
No label of any example is read; the class names are the only supervision, as in a zero-shot prompt.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from oversight.errors import ConfigError

if TYPE_CHECKING:  # the context imports torch
    from oversight.context import Context

TEMPERATURE = 0.05  # softmax temperature over cosine similarities (only the argmax enters accuracy)


def zero_shot_probs(ctx: Context, model_cfg, template: str, indices: np.ndarray) -> np.ndarray:
    """Class probabilities at `indices` from similarity to each class's prompt, under the model of `model_cfg`."""
    from oversight.training.features import compute_features

    if "{label}" not in template:
        raise ConfigError(f"zero-shot template {template!r} must contain {{label}}")
    learner = ctx.learner(replace(model_cfg, mode="probe"))  # the probe's cached features of every text
    texts = learner.features(indices)
    prompts = [template.format(label=name) for name in ctx.dataset.classes]
    anchors = compute_features(learner.resolved.path, prompts, learner.cfg, len(prompts), ctx.ws.device, desc="zero-shot prompts")

    def unit(x: np.ndarray) -> np.ndarray:
        return x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)

    logits = unit(texts) @ unit(anchors).T / TEMPERATURE
    logits -= logits.max(1, keepdims=True)
    probs = np.exp(logits)
    return (probs / probs.sum(1, keepdims=True)).astype(np.float32)

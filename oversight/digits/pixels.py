"""The sparse-pixel judge of Irving, Christiano & Amodei 2018 ("AI safety via debate", §3.1) on 8×8 digits.

The judge is a small MLP that sees only the revealed pixels of an image: its input is the reveal
mask and the masked pixel values (64 + 64). As in the paper it is trained on k *nonzero* pixels
drawn at random, with fresh draws every epoch. The same network trained on the whole image is the
ceiling. The data are scikit-learn's bundled digits (1,797 images, nothing to download).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from oversight.digits.config import PixelJudgeConfig

N_PIXELS = 64
N_CLASSES = 10


@dataclass
class Digits:
    images: np.ndarray  # (n, 64) float32 pixel values scaled to [0, 1]
    labels: np.ndarray  # (n,) int64 digit

    @property
    def allowed(self) -> np.ndarray:
        """(n, 64) bool: the nonzero pixels, the only ones the judge is trained on and players may reveal."""
        return self.images > 0

    def fingerprint(self) -> str:
        import hashlib

        return hashlib.sha256(self.images.tobytes() + self.labels.astype("<i8").tobytes()).hexdigest()[:16]


def load_digits_data() -> Digits:
    from sklearn.datasets import load_digits

    raw = load_digits()
    return Digits(images=(raw.data / 16.0).astype(np.float32), labels=raw.target.astype(np.int64))


def split_digits(n: int, test_size: int, data_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices; the test set depends only on `data_seed`, so every seed scores the same images."""
    if not 0 < test_size < n:
        raise ValueError(f"test_size must be in 1..{n - 1}, got {test_size}")
    order = np.random.default_rng(data_seed).permutation(n)
    return np.sort(order[test_size:]), order[:test_size]


def random_masks(allowed: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 64) bool with exactly k pixels on per row, drawn uniformly from that row's allowed pixels."""
    if (allowed.sum(1) < k).any():
        raise ValueError(f"an image has fewer than k={k} nonzero pixels")
    scores = np.where(allowed, rng.random(allowed.shape), -1.0)
    picked = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    masks = np.zeros_like(allowed)
    np.put_along_axis(masks, picked, True, axis=1)
    return masks


class PixelJudge(nn.Module):
    """MLP on (mask, mask * values) → 10 digit logits."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.first = nn.Linear(2 * N_PIXELS, hidden)
        self.rest = nn.Sequential(nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, N_CLASSES))

    def forward(self, values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        mask = mask.float()
        return self.rest(self.first(torch.cat([mask, values * mask], dim=-1)))

    def candidate_logits(self, values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(n, 64, 10): the logits after revealing each pixel in addition to `mask`.

        The first layer is linear, so revealing pixel p adds column p (mask) plus value_p × column
        64+p (value) to its pre-activation; this skips 64 first-layer matmuls per position, which is
        most of a debater's cost. Entries for already-revealed pixels are meaningless; callers drop them.
        """
        base = self.first(torch.cat([mask.float(), values * mask], dim=-1))
        w_mask, w_value = self.first.weight[:, :N_PIXELS].T, self.first.weight[:, N_PIXELS:].T
        pre = base[:, None, :] + w_mask[None] + values[:, :, None] * w_value[None]
        return self.rest(pre)


def train_judge(data: Digits, idx: np.ndarray, k: int | None, cfg: PixelJudgeConfig, seed: int) -> PixelJudge:
    """Train on `idx` with k random nonzero pixels per image (k=None: the full image, the ceiling)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = PixelJudge(cfg.hidden)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = -(-len(idx) // cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=cfg.epochs * steps_per_epoch, pct_start=0.05)
    values, labels = torch.from_numpy(data.images[idx]), torch.from_numpy(data.labels[idx])
    allowed = data.allowed[idx]
    model.train()
    for _ in range(cfg.epochs):
        # fresh pixel draws each epoch: the judge must classify from any k pixels, not memorize some
        masks = torch.ones_like(values, dtype=torch.bool) if k is None else torch.from_numpy(random_masks(allowed, k, rng))
        for batch in torch.randperm(len(idx)).split(cfg.batch_size):
            loss = nn.functional.cross_entropy(model(values[batch], masks[batch]), labels[batch])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    return model.eval()


@torch.no_grad()
def judge_accuracy(judge: PixelJudge, data: Digits, idx: np.ndarray, k: int | None, draws: int, seed: int) -> float:
    """Accuracy on `idx` from k random nonzero pixels, averaged over `draws` draws (k=None: full image)."""
    values, labels = torch.from_numpy(data.images[idx]), torch.from_numpy(data.labels[idx])
    if k is None:
        return float((judge(values, torch.ones_like(values)).argmax(-1) == labels).float().mean())
    rng = np.random.default_rng(seed)
    hits = [(judge(values, torch.from_numpy(random_masks(data.allowed[idx], k, rng))).argmax(-1) == labels).float().mean()
            for _ in range(draws)]
    return float(torch.stack(hits).mean())

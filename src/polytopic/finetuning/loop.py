"""The loop that fine-tunes an encoder: AdamW over shuffled batches of an :class:`Objective`.

Sentence-transformers' ``fit`` training recipe (Reimers & Gurevych 2019, whose settings
Mueller & Dredze 2021 keep, §4) in a loop of its own, so that fine-tuning needs neither
``datasets`` nor ``accelerate`` (what ``SentenceTransformerTrainer`` runs on): AdamW,
the learning rate rising linearly over a warm-up share of the steps and falling linearly
to 0, no weight decay on biases and LayerNorm weights, gradients clipped to norm 1. A
progress bar counts the steps, and after the first :data:`ESTIMATE_AFTER` of them a log
line estimates the whole run's time. The order of examples comes from the caller's
seeded generator, so a seeded run repeats exactly on the CPU.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

logger = logging.getLogger(__name__)

#: Examples per forward pass with gradients: a batch's gradients are accumulated over
#: micro-batches (classification, MLM) or cached (pairs, GradCache).
MICRO_BATCH = 16
#: Steps timed before the whole run's time is estimated.
ESTIMATE_AFTER = 3


@dataclass(frozen=True)
class Schedule:
    """How long and how fast a task trains."""

    epochs: int
    batch_size: int
    learning_rate: float
    warmup: float
    weight_decay: float


@dataclass
class Objective:
    """What the training loop minimises.

    Attributes
    ----------
    n_examples : int
    modules : list of nn.Module
        What trains: put in training mode, its parameters in the optimiser.
    loss : callable
        Mean loss over the examples at the given positions, a scalar tensor.
    divisible : bool
        Whether a batch may be cut into micro-batches whose gradients add up to the
        batch's (not so for in-batch negatives, where the batch is the set of negatives:
        such a loss bounds its memory itself).
    """

    n_examples: int
    modules: list[nn.Module]
    loss: Callable[[np.ndarray], torch.Tensor]
    divisible: bool = True


def train(objective: Objective, schedule: Schedule, rng: np.random.Generator, *, progress: bool = True,
          description: str = "fine-tuning") -> list[float]:
    """Minimise ``objective`` by AdamW over ``schedule.epochs`` passes in an order drawn
    from ``rng``; returns the mean loss of each epoch.

    The learning rate rises linearly over the first ``warmup`` share of the steps and
    falls linearly to 0 by the last; biases and LayerNorm weights get no weight decay;
    gradients are clipped to norm 1 (sentence-transformers' ``fit``). A batch of a
    ``divisible`` objective is computed in micro-batches of :data:`MICRO_BATCH` whose
    gradients add up to the batch's.
    """
    from transformers import get_linear_schedule_with_warmup

    named = [(name, p) for module in objective.modules for name, p in module.named_parameters() if p.requires_grad]
    plain = [p for name, p in named if "bias" in name or "LayerNorm" in name or "layer_norm" in name]
    decayed = [p for name, p in named if not ("bias" in name or "LayerNorm" in name or "layer_norm" in name)]
    optimizer = torch.optim.AdamW([{"params": decayed, "weight_decay": schedule.weight_decay},
                                   {"params": plain, "weight_decay": 0.0}], lr=schedule.learning_rate)
    n, size = objective.n_examples, schedule.batch_size
    steps = math.ceil(n / size) * schedule.epochs
    scheduler = get_linear_schedule_with_warmup(optimizer, math.ceil(schedule.warmup * steps), steps)
    for module in objective.modules:
        module.train()
    losses, step, started = [], 0, time.perf_counter()
    with tqdm(total=steps, desc=description, unit="step", disable=not progress, leave=False) as bar:
        for _ in range(schedule.epochs):
            order, total = rng.permutation(n), 0.0
            for begin in range(0, n, size):
                rows = order[begin : begin + size]
                total += _step(objective, rows) * len(rows)
                torch.nn.utils.clip_grad_norm_([p for _, p in named], 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                bar.update()
                if step == ESTIMATE_AFTER and steps > ESTIMATE_AFTER:
                    per_step = (time.perf_counter() - started) / step
                    logger.info("%s: %.2f s a step over the first %d: about %s for all %d steps", description,
                                per_step, step, _duration(per_step * steps), steps)
            losses.append(total / n)
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
            logger.info("%s: epoch %d of %d, mean loss %.4f", description, len(losses), schedule.epochs, losses[-1])
    for module in objective.modules:
        module.eval()
    return losses


def _step(objective: Objective, rows: np.ndarray) -> float:
    """Accumulate the gradients of one batch's mean loss; returns that loss."""
    chunks = [rows[i : i + MICRO_BATCH] for i in range(0, len(rows), MICRO_BATCH)] if objective.divisible else [rows]
    value = 0.0
    for chunk in chunks:
        loss = objective.loss(chunk) * (len(chunk) / len(rows))
        loss.backward()
        value += float(loss.detach())
    return value


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min" if seconds < 7200 \
        else f"{seconds / 3600:.1f} h"

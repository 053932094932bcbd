"""Mini-batch training of a torch module on a loss per document, with optional early
stopping on a validation split. Kept apart from the models (``shared/STYLE.md``: the
training loop lives apart from what it trains).

Batches are cut straight from in-memory arrays — no DataLoader, no per-item Python
work — because for networks this small the per-batch overhead, not the arithmetic,
decides the wall time.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import scipy.sparse as sp
import torch
from tqdm.auto import tqdm

from polytopic.models.bow import BagOfWordsBatch

logger = logging.getLogger(__name__)


def resolve_device(device: str | None) -> torch.device:
    """``device`` as a torch device; None picks CUDA when available, else the CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class Batches(Protocol):
    """What :func:`train` reads: rows that cut into the tensors a loss takes, and a subset
    of rows (the validation split). :class:`BatchSource` is one; M3L-Contrast's tuples of
    views (:class:`~polytopic.models.m3l.TupleBatches`) another."""

    def __len__(self) -> int: ...

    def batch(self, rows: np.ndarray) -> tuple: ...

    def subset(self, rows: np.ndarray) -> "Batches": ...


@dataclass
class BatchSource:
    """Rows of a sparse bag-of-words, of dense embeddings and of any per-row arrays (a
    document's label, a teacher's prior), cut into tensors in that order.

    The bag of words stays sparse, in memory and in each batch
    (:class:`~polytopic.models.bow.BagOfWordsBatch`), so memory and time grow with the
    corpus's non-zeros, not with documents × vocabulary.
    """

    bow: sp.csr_matrix | None
    embeddings: np.ndarray | None
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    rows: tuple[np.ndarray, ...] = ()

    def __post_init__(self) -> None:
        if self.embeddings is not None:
            self._embeddings = torch.as_tensor(self.embeddings, dtype=torch.float32, device=self.device)

    def __len__(self) -> int:
        return (self.bow if self.bow is not None else self.embeddings).shape[0]

    def batch(self, rows: np.ndarray) -> tuple:
        bow = BagOfWordsBatch.from_csr(self.bow[rows], self.device) if self.bow is not None else None
        embedding = self._embeddings[torch.from_numpy(rows).to(self.device)] if self.embeddings is not None else None
        return bow, embedding, *(torch.as_tensor(array[rows], device=self.device) for array in self.rows)

    def subset(self, rows: np.ndarray) -> "BatchSource":
        return BatchSource(
            None if self.bow is None else self.bow[rows],
            None if self.embeddings is None else self.embeddings[rows],
            self.device,
            tuple(array[rows] for array in self.rows),
        )

    def with_rows(self, *arrays: np.ndarray) -> "BatchSource":
        """These batches with ``arrays`` (one row per document) appended to each."""
        return BatchSource(self.bow, self.embeddings, self.device, self.rows + arrays)


@dataclass
class TrainingResult:
    """Per-epoch mean loss per document; ``best_epoch`` is 1-based."""

    train_loss: list[float]
    validation_loss: list[float]
    best_epoch: int


def batch_order(n: int, batch_size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Row indices per batch, shuffled when ``rng`` is given. A trailing batch of one
    row is folded into the previous one: batch normalisation needs two rows."""
    order = rng.permutation(n) if rng is not None else np.arange(n)
    batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    if len(batches) > 1 and len(batches[-1]) == 1:
        batches[-2] = np.concatenate(batches[-2:])
        batches.pop()
    return batches


def run_epoch(module: torch.nn.Module, loss_fn: Callable, data: Batches, batch_size: int,
              optimizer: torch.optim.Optimizer | None, rng: np.random.Generator | None) -> float:
    """One pass over ``data``: trains when ``optimizer`` is given, else evaluates.
    Returns the mean loss per document."""
    module.train(optimizer is not None)
    total = 0.0
    with torch.set_grad_enabled(optimizer is not None):
        for rows in batch_order(len(data), batch_size, rng):
            loss = loss_fn(*data.batch(rows)).sum()
            if optimizer is not None:
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            total += loss.item()
    return total / len(data)


def train(module: torch.nn.Module, loss_fn: Callable, data: Batches, *, epochs: int,
          batch_size: int, optimizer: torch.optim.Optimizer, rng: np.random.Generator,
          validation: Batches | None = None, patience: int = 5,
          progress: bool = True, description: str = "training") -> TrainingResult:
    """Train for ``epochs``; with ``validation``, stop once its loss has not improved for
    ``patience`` epochs and restore the best weights (as CTM's early stopping)."""
    train_loss: list[float] = []
    validation_loss: list[float] = []
    best = (float("inf"), 0, None)  # loss, epoch, weights
    bar = tqdm(range(epochs), desc=description, unit="epoch", disable=not progress, leave=False)
    for epoch in bar:
        train_loss.append(run_epoch(module, loss_fn, data, batch_size, optimizer, rng))
        postfix = {"loss": f"{train_loss[-1]:.2f}"}
        if validation is not None:
            validation_loss.append(run_epoch(module, loss_fn, validation, batch_size, None, None))
            postfix["val"] = f"{validation_loss[-1]:.2f}"
            if validation_loss[-1] < best[0]:
                best = (validation_loss[-1], epoch + 1, copy.deepcopy(module.state_dict()))
            elif epoch + 1 - best[1] >= patience:
                logger.info("early stopping after epoch %d (best %d)", epoch + 1, best[1])
                break
        bar.set_postfix(postfix)
    if best[2] is not None:
        module.load_state_dict(best[2])
    module.eval()
    return TrainingResult(train_loss, validation_loss, best[1] or len(train_loss))

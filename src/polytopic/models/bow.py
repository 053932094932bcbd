"""A batch of bags of words as sparse tensors, and the two products the VAEs take of it.

Bags of words are very sparse (English Debian descriptions use about 18 of the 2,000
vocabulary words), so both places a topic VAE touches them cost O(non-zeros) here instead
of O(batch × vocabulary):

- the first layer of the inference network, x W, is an embedding bag over the non-zeros
  (:meth:`BagOfWordsBatch.project`);
- the reconstruction term Σ_w n_w log p(w | θ) gathers log p at the non-zeros
  (:meth:`BagOfWordsBatch.log_likelihood`).

Both are the same functions, with the same gradients, as their dense forms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from torch.nn import functional as F


@dataclass(frozen=True)
class BagOfWordsBatch:
    """Documents' word counts as CSR pieces on one device.

    ``words``, ``counts`` and ``rows`` (nnz,) hold each non-zero's word, count and
    document; ``offsets`` (batch,) is where each document's non-zeros start.
    """

    words: torch.Tensor
    counts: torch.Tensor
    rows: torch.Tensor
    offsets: torch.Tensor

    @classmethod
    def from_csr(cls, matrix: sp.csr_matrix, device: torch.device | str = "cpu") -> "BagOfWordsBatch":
        matrix = sp.csr_matrix(matrix)
        if not matrix.has_canonical_format:  # one entry per (document, word), without touching the caller's
            matrix = matrix.copy()
            matrix.sum_duplicates()
        as_long = lambda a: torch.from_numpy(np.asarray(a, dtype=np.int64)).to(device)  # noqa: E731
        return cls(
            words=as_long(matrix.indices),
            counts=torch.from_numpy(np.asarray(matrix.data, dtype=np.float32)).to(device),
            rows=as_long(np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))),
            offsets=as_long(matrix.indptr[:-1]),
        )

    def __len__(self) -> int:
        return len(self.offsets)

    def _per_document(self, values: torch.Tensor) -> torch.Tensor:
        """Sum of ``values`` (nnz,) per document, shape (batch,)."""
        return torch.zeros(len(self), dtype=values.dtype, device=values.device).index_add_(0, self.rows, values)

    def totals(self) -> torch.Tensor:
        """Words per document, shape (batch,)."""
        return self._per_document(self.counts)

    def normalised(self) -> "BagOfWordsBatch":
        """Counts divided by each document's total (ETM's input); empty documents stay empty."""
        return BagOfWordsBatch(self.words, self.counts / self.totals()[self.rows], self.rows, self.offsets)

    def project(self, weight: torch.Tensor) -> torch.Tensor:
        """X W for ``weight`` (vocabulary, width): Σ_w n_w W[w] per document, (batch, width)."""
        return F.embedding_bag(self.words, weight, self.offsets, mode="sum", per_sample_weights=self.counts)

    def log_likelihood(self, log_word: torch.Tensor) -> torch.Tensor:
        """Σ_w n_w log p(w) per document for ``log_word`` (batch, vocabulary), shape (batch,)."""
        return self._per_document(self.counts * log_word[self.rows, self.words])

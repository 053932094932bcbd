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

    ``words`` and ``counts`` (nnz,) hold each document's non-zeros in turn; ``lengths``
    (batch,) says how many belong to each document and ``offsets`` (batch,) where they start.
    """

    words: torch.Tensor
    counts: torch.Tensor
    lengths: torch.Tensor
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
            lengths=as_long(np.diff(matrix.indptr)),
            offsets=as_long(matrix.indptr[:-1]),
        )

    def __len__(self) -> int:
        return len(self.lengths)

    def totals(self) -> torch.Tensor:
        """Words per document, shape (batch,)."""
        return torch.segment_reduce(self.counts, "sum", lengths=self.lengths)

    def normalised(self) -> "BagOfWordsBatch":
        """Counts divided by each document's total (ETM's input); empty documents stay empty."""
        totals = self.totals().clamp(min=1e-12).repeat_interleave(self.lengths)
        return BagOfWordsBatch(self.words, self.counts / totals, self.lengths, self.offsets)

    def project(self, weight: torch.Tensor) -> torch.Tensor:
        """x W for ``weight`` (vocabulary, width): Σ_w n_w W[w] per document, (batch, width)."""
        return F.embedding_bag(self.words, weight, self.offsets, mode="sum", per_sample_weights=self.counts)

    def log_likelihood(self, log_word: torch.Tensor) -> torch.Tensor:
        """Σ_w n_w log p(w) per document for ``log_word`` (batch, vocabulary), shape (batch,)."""
        rows = torch.arange(len(self), device=log_word.device).repeat_interleave(self.lengths)
        return torch.segment_reduce(self.counts * log_word[rows, self.words], "sum", lengths=self.lengths)

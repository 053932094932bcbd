"""The networks and losses of M3L-Contrast (Zosa & Pivovarova 2022, §3, Eq. 1).

Pure ``nn.Module``s and loss functions, no training logic:

- one inference network per view (a language's texts, the items' images), reading that
  view's embeddings as ZeroShotTM does (§4: one hidden layer of 100 softplus units);
- one product-of-experts decoder (a topic-word matrix β_l) per language;
- the loss of one batch of aligned tuples: Σ_l reconstruction of language l's bag of
  words, plus Σ_{a≠b} KL(q(θ|x^a) ‖ q(θ|x^b)) between the posteriors of a tuple's members,
  plus s · InfoNCE over the sampled θ (positives: members of one tuple; negatives: the
  other tuples' members in the batch; temperature τ).

Images have no bag of words: they enter the KL and InfoNCE terms only (§3.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import permutations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from polytopic.models.bow import BagOfWordsBatch
from polytopic.models.vae import InferenceNetwork, LogisticNormalPrior, ProductOfExpertsDecoder


@dataclass
class ViewBatch:
    """The members of one view in a batch of tuples.

    ``present`` (m,) are the positions, within the batch, of the tuples that have the view;
    ``embedding`` (m, E) their vectors; ``bow`` their bags of words (text views).
    """

    present: np.ndarray
    embedding: torch.Tensor
    bow: BagOfWordsBatch | None


def gaussian_kl(mean_a, log_variance_a, mean_b, log_variance_b) -> torch.Tensor:
    """KL(N(μ_a, σ²_a) ‖ N(μ_b, σ²_b)) of diagonal Gaussians per row, shape (n,)."""
    variance_b = log_variance_b.exp()
    return 0.5 * ((log_variance_a.exp() + (mean_a - mean_b) ** 2) / variance_b
                  + log_variance_b - log_variance_a - 1).sum(1)


def info_nce(theta_a: torch.Tensor, theta_b: torch.Tensor, temperature: float, cosine: bool) -> torch.Tensor:
    """InfoNCE of aligned rows (van den Oord et al. 2018), both directions, shape (n,).

    Row i of ``theta_a`` and of ``theta_b`` belong to one tuple (the positive pair); every
    other row of the other view is a negative. The score is θ_a · θ_b / τ (Eq. 1), or the
    cosine with ``cosine``. Summing the a→b and b→a terms counts the ordered pairs a ≠ b of
    Eq. 1.
    """
    if cosine:
        theta_a, theta_b = F.normalize(theta_a, dim=1), F.normalize(theta_b, dim=1)
    logits = theta_a @ theta_b.T / temperature
    target = torch.arange(len(logits), device=logits.device)
    return F.cross_entropy(logits, target, reduction="none") + F.cross_entropy(logits.T, target, reduction="none")


class M3LNetwork(nn.Module):
    """Inference networks per view, decoders per language, one Dirichlet-like prior.

    Parameters
    ----------
    embedding_sizes : mapping view -> int
        Input size of each view's inference network.
    vocabulary_sizes : mapping language -> int
        Output size of each language's decoder.
    n_topics, hidden_sizes, activation, dropout, learn_priors
        As for :class:`~polytopic.models.vae.TopicVAE`.
    temperature, contrastive_weight : float
        τ and s of Eq. 1 (paper: 0.07 and 50).
    cosine : bool
        Score InfoNCE pairs by cosine instead of the paper's dot product (the model's default).
    prior_kl : bool
        Add each posterior's KL to the prior (the ELBO of the ZeroShotTM each view is) to
        Eq. 1's terms.
    """

    def __init__(self, embedding_sizes: Mapping[str, int], vocabulary_sizes: Mapping[str, int], n_topics: int,
                 hidden_sizes, activation: str, dropout: float, learn_priors: bool, temperature: float,
                 contrastive_weight: float, cosine: bool, prior_kl: bool):
        super().__init__()
        self.inference = nn.ModuleDict({
            view: InferenceNetwork(0, size, n_topics, hidden_sizes, activation, dropout)
            for view, size in embedding_sizes.items()})
        self.decoders = nn.ModuleDict({
            language: ProductOfExpertsDecoder(n_topics, size, dropout) for language, size in vocabulary_sizes.items()})
        self.prior = LogisticNormalPrior(n_topics, learnable=learn_priors)
        self.temperature = temperature
        self.contrastive_weight = contrastive_weight
        self.cosine = cosine
        self.prior_kl = prior_kl

    def loss(self, views: dict[str, ViewBatch]) -> torch.Tensor:
        """Eq. 1 summed over the batch's tuples (a scalar).

        A view with fewer than two members in the batch is left out of that batch: batch
        normalisation needs two rows.
        """
        posteriors, total = {}, torch.zeros(())
        for name, batch in views.items():
            if len(batch.present) < 2:
                continue
            mean, log_variance = self.inference[name](None, batch.embedding)
            theta = F.softmax(mean + torch.randn_like(mean) * (0.5 * log_variance).exp(), dim=1)
            posteriors[name] = (batch.present, mean, log_variance, theta)
            total = total.to(mean.device)
            if self.prior_kl:
                total = total + self.prior.kl(mean, log_variance).sum()
            if name in self.decoders:
                total = total - batch.bow.log_likelihood(self.decoders[name](theta)).sum()
        for a, b in permutations(posteriors, 2):
            rows_a, rows_b = _common(posteriors[a][0], posteriors[b][0])
            if rows_a.size == 0:
                continue
            _, mean_a, log_variance_a, theta_a = posteriors[a]
            _, mean_b, log_variance_b, theta_b = posteriors[b]
            total = total + gaussian_kl(mean_a[rows_a], log_variance_a[rows_a],
                                        mean_b[rows_b], log_variance_b[rows_b]).sum()
            if a < b and rows_a.size >= 2:  # InfoNCE scores both directions at once
                total = total + self.contrastive_weight * info_nce(
                    theta_a[rows_a], theta_b[rows_b], self.temperature, self.cosine).sum()
        return total

    def topic_word(self, language: str) -> torch.Tensor:
        """softmax(β_l) per topic, shape (K, V_l)."""
        return torch.softmax(self.decoders[language].beta.detach().double(), dim=1)


def _common(present_a: np.ndarray, present_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices into two views' rows of the tuples both have."""
    _, rows_a, rows_b = np.intersect1d(present_a, present_b, assume_unique=True, return_indices=True)
    return rows_a, rows_b

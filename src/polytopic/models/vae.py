"""The variational core shared by ProdLDA, CombinedTM and ZeroShotTM (and later M3L).

Pure ``nn.Module``s, no training logic:

- :class:`InferenceNetwork` — q(θ | x) as a logistic normal, from a bag of words, a
  sentence embedding, or both (Srivastava & Sutton 2017; Bianchi et al. 2021a/b).
- :class:`LogisticNormalPrior` — the Laplace approximation of a Dirichlet prior in the
  softmax basis (Srivastava & Sutton 2017, Eq. 2), learnable as in CTM.
- :class:`ProductOfExpertsDecoder` — ProdLDA's decoder: softmax(BN(θ β)) over words.
- :class:`TopicVAE` — puts them together and computes the negated ELBO per document.

Names follow the papers inside the maths (θ document-topic, β topic-word).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from polytopic.models.bow import BagOfWordsBatch

ACTIVATIONS = {"softplus": nn.Softplus, "relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}


class InputLayer(nn.Module):
    """The first hidden layer's affine map over the inference network's inputs.

    The bag of words enters through a sparse projection (:meth:`BagOfWordsBatch.project`).
    The sentence embedding enters directly, or — with ``adapt_embedding`` — as in the
    reference CombinedTM code (Bianchi et al. 2021a): mapped first to ``bow_size`` units
    and concatenated to the bag of words. That adapt map and the first layer are two
    linear maps with nothing between them, so they compose into one map from the
    embedding to the hidden units: ``adapt_embedding`` adds E·V + V + H·(V − E)
    parameters (0.93 M at E = 384, V = 2,000, H = 100, 72% of the network) and training
    time, but no function the direct layer cannot represent.

    The first layer's weights and bias start as one ``nn.Linear`` over the concatenated
    input would, uniform in ±1/√fan-in; the adapt map as ``nn.Linear(E, V)`` (as in the
    reference).
    """

    def __init__(self, bow_size: int, embedding_size: int, width: int, adapt_embedding: bool = False):
        super().__init__()
        if bow_size == 0 and embedding_size == 0:
            raise ValueError("the inference network needs a bag of words, an embedding, or both")
        if adapt_embedding and not (bow_size and embedding_size):
            raise ValueError("adapt_embedding needs both a bag of words and an embedding (CombinedTM)")
        self.adapt = nn.Linear(embedding_size, bow_size) if adapt_embedding else None
        embedding_width = bow_size if adapt_embedding else embedding_size
        bound = (bow_size + embedding_width) ** -0.5
        uniform = lambda *shape: nn.Parameter(torch.empty(*shape).uniform_(-bound, bound))  # noqa: E731
        self.bow_weight = uniform(bow_size, width) if bow_size else None
        self.embedding_weight = uniform(width, embedding_width) if embedding_size else None
        self.bias = uniform(width)

    def forward(self, bow: BagOfWordsBatch | None, embedding: torch.Tensor | None) -> torch.Tensor:
        x = self.bias
        if self.bow_weight is not None:
            x = x + bow.project(self.bow_weight)
        if self.embedding_weight is not None:
            x = x + F.linear(self.adapt(embedding) if self.adapt is not None else embedding, self.embedding_weight)
        return x


def upgrade_format1(arrays: dict, uses_bow: bool) -> dict:
    """Rename and reshape a format-1 inference network's arrays to this layout.

    Format 1 (polytopic ≤ 0.1, before the sparse first layer) held the first layer as one
    dense ``hidden.0`` over [bag of words; embedding] and CombinedTM's adapt map as
    ``adapt_embedding``; the following Linear layers sat at even ``hidden`` indices.
    Arrays already in this layout come back unchanged.
    """
    if "inference.hidden.0.weight" not in arrays:
        return arrays
    out = {}
    for key, value in arrays.items():
        parts = key.split(".")
        if key.startswith("inference.adapt_embedding."):
            out[f"inference.input.adapt.{parts[-1]}"] = value
        elif key.startswith("inference.hidden.") and parts[2] != "0":  # hidden.2k → hidden.(2k − 1)
            out[f"inference.hidden.{int(parts[2]) - 1}.{parts[3]}"] = value
        elif not key.startswith("inference.hidden.0."):
            out[key] = value
    weight = arrays["inference.hidden.0.weight"]
    if "inference.input.adapt.weight" in out:
        bow_size = out["inference.input.adapt.weight"].shape[0]
    else:
        bow_size = weight.shape[1] if uses_bow else 0
    if bow_size:
        out["inference.input.bow_weight"] = weight[:, :bow_size].T.copy()
    if weight.shape[1] > bow_size:
        out["inference.input.embedding_weight"] = weight[:, bow_size:].copy()
    out["inference.input.bias"] = arrays["inference.hidden.0.bias"]
    return out


class InferenceNetwork(nn.Module):
    """Encoder of the VAE: inputs → hidden layers → (μ, log σ²) of a logistic normal.

    Parameters
    ----------
    bow_size : int
        Vocabulary size when the bag of words is an input (ProdLDA, CombinedTM), else 0.
    embedding_size : int
        Sentence-embedding size when it is an input (CombinedTM, ZeroShotTM), else 0.
    n_topics : int
    hidden_sizes : sequence of int
        Widths of the hidden layers (paper §4: two layers of 100).
    activation : str
        Key of :data:`ACTIVATIONS` (paper: softplus).
    dropout : float
        Dropout on the last hidden layer (paper: 0.2).
    batch_norm : bool
        Batch-normalise μ and log σ² (ProdLDA, CTM); ETM does not.
    adapt_embedding : bool
        With both inputs, map the embedding to ``bow_size`` units first, as the reference
        CombinedTM does (see :class:`InputLayer`).
    """

    def __init__(self, bow_size: int, embedding_size: int, n_topics: int,
                 hidden_sizes: Sequence[int] = (100, 100), activation: str = "softplus",
                 dropout: float = 0.2, batch_norm: bool = True, adapt_embedding: bool = False):
        super().__init__()
        self.input = InputLayer(bow_size, embedding_size, hidden_sizes[0], adapt_embedding)
        layers: list[nn.Module] = [ACTIVATIONS[activation]()]
        for width, size in zip(hidden_sizes[:-1], hidden_sizes[1:]):
            layers += [nn.Linear(width, size), ACTIVATIONS[activation]()]
        self.hidden = nn.Sequential(*layers, nn.Dropout(dropout))
        self.mean = nn.Linear(hidden_sizes[-1], n_topics)
        self.log_variance = nn.Linear(hidden_sizes[-1], n_topics)
        # Batch normalisation without affine parameters on both heads, as in ProdLDA/CTM:
        # it keeps the posterior from collapsing onto the prior early in training.
        # ETM (Dieng et al. 2020) has no such normalisation: ``batch_norm=False``.
        norm = (lambda: nn.BatchNorm1d(n_topics, affine=False)) if batch_norm else nn.Identity
        self.mean_norm = norm()
        self.log_variance_norm = norm()

    def forward(self, bow: BagOfWordsBatch | None, embedding: torch.Tensor | None):
        return self.posterior(self.represent(bow, embedding))

    def represent(self, bow: BagOfWordsBatch | None, embedding: torch.Tensor | None) -> torch.Tensor:
        """The hidden representation, shape (batch, hidden_sizes[-1]): the last hidden
        layer's activations after dropout, from which μ and log σ² are read (and TCCTM's
        topic classifier, Mueller & Dredze 2021 §3.4)."""
        return self.hidden(self.input(bow, embedding))

    def posterior(self, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ, log σ²) of q(θ | x) from the hidden representation, each (batch, K)."""
        return self.mean_norm(self.mean(hidden)), self.log_variance_norm(self.log_variance(hidden))


class LogisticNormalPrior(nn.Module):
    """Laplace approximation of Dirichlet(α) in the softmax basis (Srivastava & Sutton
    2017, Eq. 2): μ_k = log α_k − mean_i log α_i and
    σ²_k = (1/α_k)(1 − 2/K) + (1/K²) Σ_i 1/α_i. With α = 1: μ = 0, σ² = 1 − 1/K."""

    def __init__(self, n_topics: int, alpha: float = 1.0, learnable: bool = True):
        super().__init__()
        log_alpha = torch.full((n_topics,), float(alpha)).log()
        mean = log_alpha - log_alpha.mean()
        inv = 1.0 / log_alpha.exp()
        variance = inv * (1 - 2.0 / n_topics) + inv.sum() / n_topics**2
        self.mean = nn.Parameter(mean, requires_grad=learnable)
        self.variance = nn.Parameter(variance, requires_grad=learnable)

    def kl(self, mean: torch.Tensor, log_variance: torch.Tensor) -> torch.Tensor:
        """KL(q ‖ prior) of diagonal Gaussians per row, shape (batch,)."""
        ratio = (log_variance.exp() / self.variance).sum(1)
        mahalanobis = ((self.mean - mean) ** 2 / self.variance).sum(1)
        log_det = self.variance.log().sum() - log_variance.sum(1)
        return 0.5 * (ratio + mahalanobis - mean.shape[1] + log_det)


class ProductOfExpertsDecoder(nn.Module):
    """ProdLDA's decoder: p(w | θ) = softmax(BN(θ β)) (Srivastava & Sutton 2017, §3.3).

    β (n_topics × vocabulary) holds unnormalised topic-word weights; the topic-word
    distribution reported to users is softmax(β) per row.
    """

    def __init__(self, n_topics: int, vocabulary_size: int, dropout: float = 0.2):
        super().__init__()
        self.beta = nn.Parameter(nn.init.xavier_uniform_(torch.empty(n_topics, vocabulary_size)))
        self.norm = nn.BatchNorm1d(vocabulary_size, affine=False)
        self.drop_theta = nn.Dropout(dropout)

    def forward(self, theta: torch.Tensor) -> torch.Tensor:
        """Log word probabilities, shape (batch, vocabulary)."""
        return F.log_softmax(self.norm(self.drop_theta(theta) @ self.beta), dim=1)


class TopicVAE(nn.Module):
    """Inference network + prior + decoder; the negated ELBO of one batch."""

    def __init__(self, bow_size: int, embedding_size: int, n_topics: int, vocabulary_size: int,
                 hidden_sizes: Sequence[int], activation: str, dropout: float, learn_priors: bool,
                 adapt_embedding: bool = False):
        super().__init__()
        self.inference = InferenceNetwork(bow_size, embedding_size, n_topics, hidden_sizes, activation, dropout,
                                          adapt_embedding=adapt_embedding)
        self.prior = LogisticNormalPrior(n_topics, learnable=learn_priors)
        self.decoder = ProductOfExpertsDecoder(n_topics, vocabulary_size, dropout)

    def loss(self, bow: BagOfWordsBatch, embedding: torch.Tensor | None) -> torch.Tensor:
        """Negated ELBO per document, shape (batch,) (see :meth:`negated_elbo`)."""
        # a network without bag-of-words input ignores it
        return self.negated_elbo(bow, *self.inference(bow, embedding))

    def negated_elbo(self, bow: BagOfWordsBatch, mean: torch.Tensor, log_variance: torch.Tensor) -> torch.Tensor:
        """KL(q(θ|x) ‖ p(θ)) plus the reconstruction loss −Σ_w n_w log p(w | θ) with one
        reparameterised sample, per document, shape (batch,), for the posterior (μ, log σ²)."""
        z = mean + torch.randn_like(mean) * (0.5 * log_variance).exp()
        log_word = self.decoder(F.softmax(z, dim=1))
        return self.prior.kl(mean, log_variance) - bow.log_likelihood(log_word)

    @torch.no_grad()
    def doc_topic(self, bow: BagOfWordsBatch | None, embedding: torch.Tensor | None,
                  noise: torch.Tensor | None) -> torch.Tensor:
        """θ per document, shape (batch, K), by :func:`expected_theta`."""
        return expected_theta(*self.inference(bow, embedding), noise)


def expected_theta(mean: torch.Tensor, log_variance: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
    """θ of each row of a logistic-normal posterior, shape (batch, K): the mean of
    softmax(μ + σ ε_s) over the S draws in ``noise`` — (batch, S, K), one set per document,
    or (S, K) shared by all — or softmax(μ) when ``noise`` is None."""
    if noise is None:
        return F.softmax(mean, dim=1)
    std = (0.5 * log_variance).exp()
    samples = mean.unsqueeze(1) + std.unsqueeze(1) * (noise if noise.dim() == 3 else noise.unsqueeze(0))
    return F.softmax(samples, dim=2).mean(1)

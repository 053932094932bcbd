"""ETM, the embedded topic model (Dieng, Ruiz & Blei 2020).

Topics and words live in one embedding space: β_k = softmax(ρ α_k) (§4, Eq. 7), with ρ
(V × L) fixed word embeddings and α_k (L) a learned topic embedding. Here ρ comes from the
same offline encoder as the rest of polytopic — the input-embedding rows of each word's
pieces, averaged (:meth:`~polytopic.encoders.tokens.TokenEncoder.static_word_vectors`),
the "pre-fitted embeddings" variant of §4. The encoder is a VAE on the bag of words like
ProdLDA, so ETM reuses the CTM family's fitting, inference and persistence.

Defaults are those of the reference ETM code (Dieng et al. 2020, §5 and its ``main.py``):
two ReLU layers of 800 units, no dropout, no batch normalisation, the normalised bag of
words as input, a N(0, I) prior on δ (θ = softmax(δ)), Adam with learning rate 5e-3 and
weight decay 1.2e-6, batch size 1000. ``transform`` uses θ = softmax(μ).

Epochs: 100, the low end of what the reference code's documentation asks for on real
corpora (100–150), not its ``main.py`` default of 20. With batches of 1,000, 20 epochs
are 400 updates on 20,000 documents: on 20,000 Debian descriptions at K = 50 (three
seeds) 100 epochs raised top-25 diversity from 0.60 ± 0.01 to 0.71 ± 0.00 and NPMI from
0.045 ± 0.007 to 0.052 ± 0.007, for 134 s of fitting instead of 15 s
(``benchmarks/results/quality-20000docs-K50-stopwordsiso.json``).
"""

from __future__ import annotations

import logging
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from polytopic.encoders import get_token_encoder
from polytopic.encoders.tokens import TokenEncoder
from polytopic.models.bow import BagOfWordsBatch
from polytopic.models.vae import InferenceNetwork, LogisticNormalPrior
from polytopic.models.variational import VAETopicModel
from polytopic.params import Anything, Interval
from polytopic.preprocessing import DEFAULT_VOCABULARY_SIZE, Vocabulary

logger = logging.getLogger(__name__)

WEIGHT_DECAY = 1.2e-6  # reference ETM code


def rescaled(vectors: np.ndarray) -> np.ndarray:
    """ρ divided by the standard deviation of its entries: one scale for every word.

    A transformer's input embeddings sit on a far smaller scale than the skip-gram vectors
    ETM was designed around (all-MiniLM-L6-v2: entries' std 0.06, norms about 1). With
    them ρ α stays near zero for α at its initial scale, and every topic converges to the
    corpus's word frequencies: on 5,000 Debian descriptions, K = 50, diversity (top 25)
    was 0.034 raw and 0.478 rescaled. One factor for all entries keeps the words'
    directions and relative lengths. (Centring ρ would be inert: it shifts every word's
    logit in a topic by the same amount, which the softmax over words cancels.)
    """
    return (vectors / max(float(vectors.std()), 1e-12)).astype(np.float32)


class EmbeddingDecoder(nn.Module):
    """p(w | θ) = θᵀ β with β_k = softmax(ρ α_k) (Dieng et al. 2020, Eq. 7).

    ``word_vectors`` ρ (V × L) is a fixed buffer (saved with the model); the topic
    embeddings α (K × L) are learned.
    """

    def __init__(self, n_topics: int, vocabulary_size: int, word_dimension: int):
        super().__init__()
        self.register_buffer("word_vectors", torch.zeros(vocabulary_size, word_dimension))
        self.topic_vectors = nn.Linear(word_dimension, n_topics, bias=False)

    def beta(self) -> torch.Tensor:
        """Topic-word distributions, shape (K, V)."""
        return torch.softmax(self.topic_vectors(self.word_vectors).T, dim=1)

    def forward(self, theta: torch.Tensor) -> torch.Tensor:
        """Log word probabilities, shape (batch, V)."""
        return torch.log(theta @ self.beta() + 1e-10)


class ETMNetwork(nn.Module):
    """Inference network on the normalised bag of words, N(0, I) prior, embedding decoder."""

    def __init__(self, vocabulary_size: int, word_dimension: int, n_topics: int, hidden_sizes, activation: str,
                 dropout: float):
        super().__init__()
        self.inference = InferenceNetwork(vocabulary_size, 0, n_topics, hidden_sizes, activation, dropout,
                                          batch_norm=False)
        self.prior = LogisticNormalPrior(n_topics, learnable=False)
        with torch.no_grad():  # ETM's prior on δ is the standard normal
            self.prior.mean.zero_()
            self.prior.variance.fill_(1.0)
        self.decoder = EmbeddingDecoder(n_topics, vocabulary_size, word_dimension)

    def _posterior(self, bow: BagOfWordsBatch):
        return self.inference(bow.normalised(), None)

    def loss(self, bow: BagOfWordsBatch, embedding=None) -> torch.Tensor:
        """Negated ELBO per document, shape (batch,), one reparameterised sample."""
        mean, log_variance = self._posterior(bow)
        delta = mean + torch.randn_like(mean) * (0.5 * log_variance).exp()
        return self.prior.kl(mean, log_variance) - bow.log_likelihood(self.decoder(torch.softmax(delta, dim=1)))

    @torch.no_grad()
    def doc_topic(self, bow: BagOfWordsBatch, embedding=None, noise=None) -> torch.Tensor:
        """θ = softmax(μ), shape (batch, K) (the reference code's ``get_theta`` in eval)."""
        return torch.softmax(self._posterior(bow)[0], dim=1)


class ETM(VAETopicModel):
    """ETM (Dieng et al. 2020): topic embeddings × word embeddings from the offline encoder.

    ``encoder``: a Hugging Face model name/path whose input embeddings give ρ (default:
    the packaged all-MiniLM-L6-v2). Document ``embeddings`` are not used.
    """

    name = "etm"
    uses_bow_input = True
    posterior: ClassVar[str] = "mean"  # θ = softmax(μ): no learned prior, no samples to draw
    _parameter_constraints: ClassVar[dict] = {
        **{k: v for k, v in VAETopicModel._parameter_constraints.items()
           if k not in ("learn_priors", "n_samples", "posterior")},
        "weight_decay": Interval(float, 0.0),
        "encoder": Anything(),
    }

    def __init__(self, n_topics: int = 10, *, encoder: str | None = None, language: str | None = None,
                 vocabulary_size: int = DEFAULT_VOCABULARY_SIZE, min_df: int = 2, hidden_sizes=(800, 800),
                 activation: str = "relu", dropout: float = 0.0, learning_rate: float = 5e-3, momentum: float = 0.9,
                 weight_decay: float = WEIGHT_DECAY, batch_size: int = 1000, epochs: int = 100,
                 validation_split: float = 0.0, patience: int = 5, seed: int | None = 0, device: str | None = None,
                 progress: bool = True):
        self.n_topics = n_topics
        self.encoder = encoder
        self.language = language
        self.vocabulary_size = vocabulary_size
        self.min_df = min_df
        self.hidden_sizes = tuple(hidden_sizes) if isinstance(hidden_sizes, list) else hidden_sizes
        self.activation = activation
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.epochs = epochs
        self.validation_split = validation_split
        self.patience = patience
        self.seed = seed
        self.device = device
        self.progress = progress

    def _word_encoder(self) -> TokenEncoder:
        return self._cached_encoder(("tokens", self.encoder), lambda: get_token_encoder(
            self.encoder, progress=self.progress))

    def _prepare_fit(self) -> None:
        super()._prepare_fit()
        self.word_dimension_ = self._word_encoder().dimension  # ρ's width, from this fit's encoder

    def _build_network(self, vocabulary_size: int, embedding_size: int) -> ETMNetwork:
        return ETMNetwork(vocabulary_size, self.word_dimension_, self.n_topics_, tuple(self.hidden_sizes),
                          self.activation, self.dropout)

    def _initialise(self, network: ETMNetwork, vocabulary: Vocabulary) -> None:
        vectors = rescaled(self._word_encoder().static_word_vectors(vocabulary.words))
        network.decoder.word_vectors.copy_(torch.from_numpy(vectors))

    def _optimizer(self, network: torch.nn.Module) -> torch.optim.Optimizer:
        return torch.optim.Adam(network.parameters(), lr=self.learning_rate, betas=(self.momentum, 0.999),
                                weight_decay=self.weight_decay, fused=True)

    def _topic_word(self, language: str) -> np.ndarray:
        with torch.no_grad():
            return self.network_.decoder.beta().double().numpy()

    def _state(self):
        state, arrays = super()._state()
        return state | {"word_dimension": self.word_dimension_}, arrays

    def _restore(self, state, arrays):
        self.word_dimension_ = int(state["word_dimension"])
        super()._restore(state, arrays)

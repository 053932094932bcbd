"""The VAE topic model: fit and inference shared by the CTM family and ETM.

:class:`VAETopicModel` trains one :class:`~polytopic.models.vae.TopicVAE` (or a network
with the same ``loss`` / ``doc_topic`` interface, as ETM's) on the first language's bag of
words and, for the embedding models, sentence vectors; subclasses choose the inputs
(``uses_bow_input``, ``reads_vectors``) and may replace the network (``_build_network``),
its initialisation (``_initialise``) and the optimiser (``_optimizer``).

Defaults are Mueller & Dredze (2021) §4: two hidden layers of 100 softplus units,
dropout 0.2, Adam with learning rate 2e-3 (β₁ = 0.99 as in the reference CTM code),
batch size 64, 20 posterior samples at inference. ``epochs`` defaults to the
reference CTM implementation's 100 (the paper ran 60).
"""

from __future__ import annotations

import logging
from typing import ClassVar

import numpy as np
import torch

from polytopic.models.base import CORPUS_PARAMETERS, DEVICE_PARAMETER, RUN_PARAMETERS, TopicModel
from polytopic.models.noise import document_keys, document_noise
from polytopic.models.training import BatchSource, TrainingResult, train
from polytopic.models.vae import ACTIVATIONS, TopicVAE, upgrade_format1
from polytopic.models.views import View
from polytopic.params import Interval, OneOf, Sizes
from polytopic.preprocessing import DEFAULT_VOCABULARY_SIZE

logger = logging.getLogger(__name__)

_INFERENCE_BATCH = 1024


#: Constraints of every model built on the variational core (the CTM family, ETM, M3L).
NETWORK_PARAMETERS: dict = {
    "hidden_sizes": Sizes(),
    "activation": OneOf(tuple(ACTIVATIONS)),
    "dropout": Interval(float, 0.0, 1.0, open_high=True),
    "learn_priors": OneOf((True, False)),
    "learning_rate": Interval(float, 0.0, open_low=True),
    "momentum": Interval(float, 0.0, 1.0, open_high=True),
    "batch_size": Interval(int, 2),
    "epochs": Interval(int, 1),
    "n_samples": Interval(int, 1),
    "posterior": OneOf(("sampled", "mean")),
    **RUN_PARAMETERS,
    **DEVICE_PARAMETER,
}


class VAETopicModel(TopicModel):
    """Shared fit/transform of the VAE topic models; subclasses choose the inputs."""

    uses_bow_input: ClassVar[bool]
    adapt_embedding: bool = False  # CombinedTM's option; see InputLayer

    _parameter_constraints: ClassVar[dict] = {
        **CORPUS_PARAMETERS,
        **NETWORK_PARAMETERS,
        "validation_split": Interval(float, 0.0, 1.0, open_high=True),
        "patience": Interval(int, 1),
    }

    def __init__(self, n_topics: int = 10, *, language: str | None = None,
                 vocabulary_size: int = DEFAULT_VOCABULARY_SIZE, min_df: int = 2,
                 hidden_sizes: tuple[int, ...] = (100, 100), activation: str = "softplus",
                 dropout: float = 0.2, learn_priors: bool = True, learning_rate: float = 2e-3,
                 momentum: float = 0.99, batch_size: int = 64, epochs: int = 100,
                 n_samples: int = 20, posterior: str = "sampled", validation_split: float = 0.0, patience: int = 5,
                 seed: int | None = 0, device: str | None = None, progress: bool = True):
        self.n_topics = n_topics
        self.language = language
        self.vocabulary_size = vocabulary_size
        self.min_df = min_df
        self.hidden_sizes = tuple(hidden_sizes) if isinstance(hidden_sizes, list) else hidden_sizes
        self.activation = activation
        self.dropout = dropout
        self.learn_priors = learn_priors
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.batch_size = batch_size
        self.epochs = epochs
        self.n_samples = n_samples
        self.posterior = posterior
        self.validation_split = validation_split
        self.patience = patience
        self.seed = seed
        self.device = device
        self.progress = progress

    # -- fit --------------------------------------------------------------------------------
    def _fit(self, views: dict[str, View], rng: np.random.Generator, device: torch.device) -> None:
        """Train the VAE on the first language's bags of words (and sentence vectors)."""
        view = self._primary(views)
        vectors = None if view.vectors is None else view.vectors[view.keep]
        data = BatchSource(view.counts[view.keep], vectors, device)
        network = self._build_network(len(view.vocabulary), 0 if vectors is None else vectors.shape[1])
        self._initialise(network, view.vocabulary)
        network = network.to(device)
        self.training_ = self._train(network, data, rng)
        self.network_ = network.cpu().eval()

    def _build_network(self, vocabulary_size: int, embedding_size: int) -> TopicVAE:
        return TopicVAE(
            bow_size=vocabulary_size if self.uses_bow_input else 0,
            embedding_size=embedding_size,
            n_topics=self.n_topics_,
            vocabulary_size=vocabulary_size,
            hidden_sizes=tuple(self.hidden_sizes),
            activation=self.activation,
            dropout=self.dropout,
            learn_priors=self.learn_priors,
            adapt_embedding=self.adapt_embedding,
        )

    def _initialise(self, network: torch.nn.Module, vocabulary) -> None:
        """Set what the network takes from the vocabulary before training (ETM: ρ)."""

    def _optimizer(self, network: torch.nn.Module) -> torch.optim.Optimizer:
        # fused: one kernel per step for all parameters instead of ~10 per tensor
        return torch.optim.Adam(network.parameters(), lr=self.learning_rate, betas=(self.momentum, 0.99),
                                fused=True)

    def _train(self, network: TopicVAE, data: BatchSource, rng: np.random.Generator,
               loss=None) -> TrainingResult:
        """Train ``network`` on ``data`` by ``loss`` (default: its negated ELBO), holding out
        ``validation_split`` of the rows for early stopping."""
        validation = None
        if self.validation_split > 0:
            order = rng.permutation(len(data))
            n_val = max(2, int(round(self.validation_split * len(data))))
            validation, data = data.subset(order[:n_val]), data.subset(order[n_val:])
        optimizer = self._optimizer(network)
        return train(
            network, loss or network.loss, data, epochs=self.epochs, batch_size=self.batch_size,
            optimizer=optimizer, rng=rng, validation=validation, patience=self.patience,
            progress=self.progress, description=f"fitting {type(self).__name__}",
        )

    # -- inference ----------------------------------------------------------------------------
    def _transform(self, view: View) -> np.ndarray:
        """Each row is the mean of softmax(μ + σ ε) over ``n_samples`` draws of ε that
        depend only on ``seed`` and the document's content (:mod:`polytopic.models.noise`):
        a document's distribution does not depend on the other documents, their order or
        the batch size, and two documents (an item's English and Italian texts) never share
        draws. ``posterior="mean"`` gives softmax(μ) instead, without sampling."""
        data = BatchSource(view.counts if self.uses_bow_input else None, view.vectors)
        keys = document_keys(view.items, self.seed_)
        out = np.empty((len(view), self.n_topics_), dtype=np.float32)
        self.network_.eval()
        for start in range(0, len(view), _INFERENCE_BATCH):
            rows = np.arange(start, min(start + _INFERENCE_BATCH, len(view)))
            noise = None
            if self.posterior == "sampled":
                noise = torch.from_numpy(document_noise(keys[rows], self.n_samples, self.n_topics_))
            out[rows] = self.network_.doc_topic(*data.batch(rows), noise).numpy()
        return out

    def _topic_word(self, language: str) -> np.ndarray:
        beta = self.network_.decoder.beta.detach().double()
        return torch.softmax(beta, dim=1).numpy()

    # -- persistence ------------------------------------------------------------------------
    def _state(self):
        arrays = {k: v.detach().cpu().numpy() for k, v in self.network_.state_dict().items()}
        state = {
            "train_loss": self.training_.train_loss,
            "validation_loss": self.training_.validation_loss,
            "best_epoch": self.training_.best_epoch,
        }
        return state, arrays

    def _restore(self, state, arrays):
        self.training_ = TrainingResult(state["train_loss"], state["validation_loss"], state["best_epoch"])
        arrays = upgrade_format1(arrays, self.uses_bow_input)
        if "inference.input.adapt.weight" in arrays:  # format 1 always had CombinedTM's adapt map
            self.adapt_embedding = True
        network = self._build_network(len(self.vocabularies_[self.language_]),
                                      self.embedding_sizes_.get(self.views_[0], 0))
        network.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()}, strict=True)
        self.network_ = network.eval()

"""ProdLDA, CombinedTM and ZeroShotTM: one VAE, three choices of input.

- ProdLDA (Srivastava & Sutton 2017): bag of words in, bag of words out.
- CombinedTM (Bianchi et al. 2021a): bag of words and sentence embedding in.
- ZeroShotTM (Bianchi et al. 2021b): sentence embedding in; with a multilingual
  encoder it infers topics for documents in any language the encoder knows.

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

from polytopic.encoders import Encoder
from polytopic.errors import CorpusError
from polytopic.models.base import CORPUS_PARAMETERS, TopicModel, as_corpus, bag_of_words_input
from polytopic.models.training import BatchSource, TrainingResult, train
from polytopic.models.vae import ACTIVATIONS, TopicVAE, upgrade_format1
from polytopic.params import Anything, Interval, OneOf, Optional, Sizes
from polytopic.preprocessing import DEFAULT_VOCABULARY_SIZE

logger = logging.getLogger(__name__)

_INFERENCE_BATCH = 1024


def resolve_device(device: str | None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class _VAETopicModel(TopicModel):
    """Shared fit/transform of the CTM family; subclasses choose the inputs."""

    uses_bow_input: ClassVar[bool]
    uses_embedding_input: ClassVar[bool]
    adapt_embedding: bool = False  # CombinedTM's option; see InputLayer

    _parameter_constraints: ClassVar[dict] = {
        **CORPUS_PARAMETERS,
        "hidden_sizes": Sizes(),
        "activation": OneOf(tuple(ACTIVATIONS)),
        "dropout": Interval(float, 0.0, 1.0, open_high=True),
        "learn_priors": OneOf((True, False)),
        "learning_rate": Interval(float, 0.0, open_low=True),
        "momentum": Interval(float, 0.0, 1.0, open_high=True),
        "batch_size": Interval(int, 2),
        "epochs": Interval(int, 1),
        "n_samples": Interval(int, 1),
        "validation_split": Interval(float, 0.0, 1.0, open_high=True),
        "patience": Interval(int, 1),
        "seed": Optional(Interval(int, 0)),
        "device": Optional(Anything()),
        "progress": OneOf((True, False)),
    }

    def __init__(self, n_topics: int = 10, *, language: str | None = None,
                 vocabulary_size: int = DEFAULT_VOCABULARY_SIZE, min_df: int = 2,
                 hidden_sizes: tuple[int, ...] = (100, 100), activation: str = "softplus",
                 dropout: float = 0.2, learn_priors: bool = True, learning_rate: float = 2e-3,
                 momentum: float = 0.99, batch_size: int = 64, epochs: int = 100,
                 n_samples: int = 20, validation_split: float = 0.0, patience: int = 5,
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
        self.validation_split = validation_split
        self.patience = patience
        self.seed = seed
        self.device = device
        self.progress = progress

    # -- inputs ------------------------------------------------------------------------
    def _embeddings(self, texts: list[str], embeddings, dimension: int | None) -> np.ndarray | None:
        if not self.uses_embedding_input:
            return None
        return self._sentence_embeddings(texts, embeddings, dimension)

    # -- fit --------------------------------------------------------------------------------
    def fit(self, corpus, *, embeddings=None) -> "_VAETopicModel":
        """Learn topics from the texts of ``language`` (default: the corpus's primary one).

        ``embeddings`` (n_texts, dim), if given, are used instead of the encoder: one row
        per text of that language, in corpus order. Documents with no vocabulary word
        left after preprocessing are dropped (their count is logged as a warning and kept
        in ``n_dropped_``): they have nothing for the decoder to reconstruct.
        """
        self._validate_params()
        corpus = as_corpus(corpus, self.language)
        data = bag_of_words_input(corpus, self.language, n_topics=self.n_topics,
                                  vocabulary_size=self.vocabulary_size, min_df=self.min_df)
        language, vocabulary, bow, keep = data.language, data.vocabulary, data.counts, data.keep
        vectors = self._embeddings(data.texts, embeddings, None)
        n_dropped = data.n_dropped
        device = resolve_device(self.device)
        data = BatchSource(bow[keep], None if vectors is None else vectors[keep], device)
        rng = np.random.default_rng(self.seed)
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(int(rng.integers(2**31)))
            network = self._build_network(len(vocabulary), 0 if vectors is None else vectors.shape[1])
            self._initialise(network, vocabulary)
            network = network.to(device)
            result = self._train(network, data, rng)
        self.vocabularies_ = {language: vocabulary}
        self.language_ = language
        self.network_ = network.cpu().eval()
        self.embedding_size_ = 0 if vectors is None else int(vectors.shape[1])
        self.n_dropped_ = int(n_dropped)
        self.training_ = result
        return self

    def _build_network(self, vocabulary_size: int, embedding_size: int) -> TopicVAE:
        return TopicVAE(
            bow_size=vocabulary_size if self.uses_bow_input else 0,
            embedding_size=embedding_size,
            n_topics=self.n_topics,
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

    def _train(self, network: TopicVAE, data: BatchSource, rng: np.random.Generator) -> TrainingResult:
        validation = None
        if self.validation_split > 0:
            order = rng.permutation(len(data))
            n_val = max(2, int(round(self.validation_split * len(data))))
            validation, data = data.subset(order[:n_val]), data.subset(order[n_val:])
        optimizer = self._optimizer(network)
        return train(
            network, network.loss, data, epochs=self.epochs, batch_size=self.batch_size,
            optimizer=optimizer, rng=rng, validation=validation, patience=self.patience,
            progress=self.progress, description=f"fitting {type(self).__name__}",
        )

    # -- inference ----------------------------------------------------------------------------
    def transform(self, documents, *, language: str | None = None, embeddings=None) -> np.ndarray:
        """Document-topic distributions of the texts in ``language`` (default: the
        training language), shape (n_texts, n_topics).

        Each row is the mean of softmax(μ + σ ε) over ``n_samples`` noise vectors ε
        drawn once from ``seed``: the result for a document does not depend on the
        other documents, their order or the batch size.
        """
        self._check_fitted()
        corpus = as_corpus(documents, language or self.language_)
        language = language or self.language_
        if self.uses_bow_input and language != self.language_:
            raise CorpusError(
                f"{type(self).__name__} reads bags of words over its {self.language_!r} vocabulary and "
                f"cannot transform {language!r} texts; ZeroShotTM transfers across languages"
            )
        texts = corpus.texts(language)
        bow = self.vocabularies_[self.language_].bag_of_words(texts) if self.uses_bow_input else None
        vectors = self._embeddings(texts, embeddings, self.embedding_size_)
        data = BatchSource(bow, vectors)
        noise = torch.randn(self.n_samples, self.n_topics,
                            generator=torch.Generator().manual_seed(self.seed or 0))
        out = np.empty((len(texts), self.n_topics), dtype=np.float32)
        self.network_.eval()
        for start in range(0, len(texts), _INFERENCE_BATCH):
            rows = np.arange(start, min(start + _INFERENCE_BATCH, len(texts)))
            out[rows] = self.network_.doc_topic(*data.batch(rows), noise).numpy()
        return out

    def _topic_word(self, language: str) -> np.ndarray:
        beta = self.network_.decoder.beta.detach().double()
        return torch.softmax(beta, dim=1).numpy()

    # -- persistence ------------------------------------------------------------------------
    def _state(self):
        arrays = {k: v.detach().cpu().numpy() for k, v in self.network_.state_dict().items()}
        state = {
            "embedding_size": self.embedding_size_,
            "n_dropped": self.n_dropped_,
            "train_loss": self.training_.train_loss,
            "validation_loss": self.training_.validation_loss,
            "best_epoch": self.training_.best_epoch,
        }
        return state, arrays

    def _restore(self, state, arrays):
        self.embedding_size_ = int(state["embedding_size"])
        self.n_dropped_ = int(state["n_dropped"])
        self.training_ = TrainingResult(state["train_loss"], state["validation_loss"], state["best_epoch"])
        arrays = upgrade_format1(arrays, self.uses_bow_input)
        if "inference.input.adapt.weight" in arrays:  # format 1 always had CombinedTM's adapt map
            self.adapt_embedding = True
        network = self._build_network(len(self.vocabularies_[self.language_]), self.embedding_size_)
        network.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()}, strict=True)
        self.network_ = network.eval()


class ProdLDA(_VAETopicModel):
    """ProdLDA (Srivastava & Sutton 2017): the VAE on bags of words alone."""

    name = "prodlda"
    uses_bow_input = True
    uses_embedding_input = False


class _EmbeddingTopicModel(_VAETopicModel):
    """A CTM whose inference network reads sentence embeddings from ``encoder``."""

    _parameter_constraints: ClassVar[dict] = {**_VAETopicModel._parameter_constraints, "encoder": Anything()}

    def __init__(self, n_topics: int = 10, *, encoder: str | Encoder | None = None, **params):
        super().__init__(n_topics, **params)
        self.encoder = encoder


class CombinedTM(_EmbeddingTopicModel):
    """CombinedTM (Bianchi et al. 2021a): bag of words and sentence embedding in.

    ``encoder``: an :class:`~polytopic.encoders.Encoder`, a registered name or a
    sentence-transformers name/path (default: the packaged all-MiniLM-L6-v2).

    ``adapt_embedding`` (default True) is the reference code's parametrisation: the
    embedding is mapped to vocabulary-size units and concatenated to the bag of words
    before the first hidden layer. ``False`` feeds the embedding to the first hidden layer
    directly: the same family of functions (two linear maps in a row compose into one)
    with 0.93 M fewer parameters, but not the same training dynamics. On 20,000 Debian
    descriptions (K = 50, 60 epochs, two seeds; ``benchmarks/results/ctm.json``) it fitted
    5.4× faster than the reference with the reference's NPMI (0.059 against 0.059), while
    the default fitted 3.2× faster with more coherent topics (0.068).
    """

    name = "combined"
    uses_bow_input = True
    uses_embedding_input = True
    _parameter_constraints: ClassVar[dict] = {**_EmbeddingTopicModel._parameter_constraints,
                                              "adapt_embedding": OneOf((True, False))}

    def __init__(self, n_topics: int = 10, *, adapt_embedding: bool = True, **params):
        super().__init__(n_topics, **params)
        self.adapt_embedding = adapt_embedding


class ZeroShotTM(_EmbeddingTopicModel):
    """ZeroShotTM (Bianchi et al. 2021b): sentence embedding in, so ``transform`` works
    on any language the encoder knows (``language="de"`` with ``encoder="use-multilingual"``)."""

    name = "zeroshot"
    uses_bow_input = False
    uses_embedding_input = True

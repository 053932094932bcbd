"""TCCTM (Mueller & Dredze 2021, §3.4 and Figure 1): a CombinedTM whose inference
network also classifies each document's topic label.

A linear layer and a softmax read the inference network's hidden representation — the
last hidden layer's activations after dropout, the input of μ and log σ²
(:meth:`InferenceNetwork.represent <polytopic.models.vae.InferenceNetwork.represent>`)
— and predict the document's label. Training minimises, per document (§3.4)::

    L_TCCTM = L_ELBO + λ · L_NLL

with L_ELBO the CombinedTM's negated ELBO and L_NLL the negative log-likelihood of the
label; λ (``label_weight``) is 1 by default, the best of the paper's search over
{0.1, 0.2, ..., 3.0} (§4). The labels are LDA topic labels
(:func:`~polytopic.models.topic_labels.choose_topics`, §4) unless ``label_field`` names a label
field of the corpus. The head does not change θ: ``transform`` is the CombinedTM's.

The authors' code (aaronmueller/contextualized-topic-models) attaches the head,
``nn.Linear(hidden_sizes[-1], nb_labels)``, to the same point of its inference network
(``contextualized_topic_models/networks/inference_network.py``, after the hidden layers
and their dropout) and adds ``nll_lambda`` times ``F.nll_loss`` of the log-softmax to
KL + RL (``models/ctm.py``, ``_loss``): the batch-mean NLL broadcast onto every
document before the sum, which is λ · NLL per document as here. Its TCCTM script
(``model_wiki_topicreg.py``) uses the embedding-only ("contextual", ZeroShotTM-like)
network with one hidden layer; the paper's Figure 1 draws the CombinedTM of Bianchi
et al., which this class follows. In the repository as published the classifier call in
the network's ``forward`` is commented out (it returns ``logits = None``), so that code
never adds the NLL term.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from polytopic.errors import ParameterError
from polytopic.models.ctm import CombinedTM
from polytopic.models.topic_labels import DEFAULT_GRID, choose_topics, field_labels
from polytopic.models.training import BatchSource, TrainingResult
from polytopic.models.vae import TopicVAE
from polytopic.models.views import View
from polytopic.params import Anything, Interval, Optional, Sizes

logger = logging.getLogger(__name__)

_PREDICT_BATCH = 1024
NO_TOPIC = "no topic"


class LabelClassifier(nn.Module):
    """Label logits from the hidden representation, shape (batch, n_labels): the
    fully-connected layer of Figure 1 (the softmax is in the loss).

    Weights and bias start uniform in ±1/√hidden_size, as ``nn.Linear``'s do, drawn from
    ``generator`` rather than torch's global generator, so that adding the head leaves
    the random draws of the VAE's initialisation and training as the CombinedTM's.
    """

    def __init__(self, hidden_size: int, n_labels: int, generator: torch.Generator | None = None):
        super().__init__()
        bound = hidden_size**-0.5
        self.weight = nn.Parameter(torch.empty(n_labels, hidden_size).uniform_(-bound, bound, generator=generator))
        self.bias = nn.Parameter(torch.empty(n_labels).uniform_(-bound, bound, generator=generator))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return F.linear(hidden, self.weight, self.bias)


def tcctm_loss(network: TopicVAE, label_weight: float):
    """L_ELBO + λ · L_NLL per document (§3.4) for a TopicVAE carrying a ``classifier``."""

    def loss(bow, embedding, labels):
        hidden = network.inference.represent(bow, embedding)
        elbo = network.negated_elbo(bow, *network.inference.posterior(hidden))
        return elbo + label_weight * F.cross_entropy(network.classifier(hidden), labels, reduction="none")

    return loss


class TCCTM(CombinedTM):
    """TCCTM (Mueller & Dredze 2021, §3.4): a CombinedTM trained with λ · NLL of a
    topic-classification head on its inference network's hidden representation.

    Parameters
    ----------
    n_topics : int
    label_weight : float
        λ ≥ 0 (paper: 1.0). λ = 0 trains exactly the CombinedTM of the same seed.
    label_field : str, optional
        A label field of the corpus (``"section"``) to classify. Every document of the
        modelled language needs a value (None or a blank string is missing:
        ``ParameterError``); values are kept as strings, and there must be at least two.
        None (default): LDA topic labels from :func:`~polytopic.models.topic_labels.choose_topics`
        on the training texts, with this model's vocabulary settings and seed.
    label_grid : sequence of int
        The numbers of LDA topics searched by NPMI (default
        :data:`~polytopic.models.topic_labels.DEFAULT_GRID`, 7 LDA fits; the paper's grid is
        ``range(10, 260, 10)``). Used without ``label_field``.
    label_iterations : int
        Gibbs iterations of each LDA (paper: 400).

    Other Parameters
    ----------------
        As for :class:`~polytopic.models.ctm.CombinedTM`.

    Attributes
    ----------
    label_names_ : list of str
        The classes; for LDA labels ``"topic 0"``, ..., ``"topic τ-1"`` and ``"no topic"``.
    label_source_ : dict
        Where the labels came from: the field, or the LDA choice's record (grid, NPMI per
        τ, chosen τ, LDA settings).
    training_labels_ : ndarray of int, shape (n_training_docs,)
        The class of each training document (those with a vocabulary word).
    """

    name = "tcctm"
    _parameter_constraints: ClassVar[dict] = {
        **CombinedTM._parameter_constraints,
        "label_weight": Interval(float, 0.0),
        "label_field": Optional(Anything()),
        "label_grid": Sizes(),
        "label_iterations": Interval(int, 1),
    }

    def __init__(self, n_topics: int = 10, *, label_weight: float = 1.0, label_field: str | None = None,
                 label_grid: tuple[int, ...] = DEFAULT_GRID, label_iterations: int = 400, **params):
        super().__init__(n_topics, **params)
        self.label_weight = label_weight
        self.label_field = label_field
        self.label_grid = tuple(label_grid) if isinstance(label_grid, list) else label_grid
        self.label_iterations = label_iterations

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.label_field is not None and not (isinstance(self.label_field, str) and self.label_field):
            raise ParameterError(f"label_field must name a label field of the corpus, or be None for LDA topic "
                                 f"labels; got {self.label_field!r}")

    def _fit_views(self, corpus, embeddings) -> dict[str, View]:
        """The CombinedTM's views, the first language's carrying each row's class: read
        from ``label_field`` or made by LDA from the corpus's texts (see the class)."""
        views = super()._fit_views(corpus, embeddings)
        view = self._primary(views)
        view.labels = self._labels(corpus, view)
        return views

    def _fit(self, views: dict[str, View], rng: np.random.Generator, device: torch.device) -> None:
        view = self._primary(views)
        labels = view.labels[view.keep]
        if np.unique(labels).size < 2:
            raise ParameterError(f"every training document has the label {self.label_names_[labels[0]]!r}: the "
                                 "classifier needs two classes or more")
        self.training_labels_ = labels
        super()._fit(views, rng, device)

    def _labels(self, corpus, view: View) -> np.ndarray:
        """The class of each row of ``view``; sets ``label_names_`` and ``label_source_``."""
        if self.label_field is not None:
            labels, self.label_names_ = field_labels(corpus, self.label_field, view.name)
            self.label_source_ = {"method": "field", "field": self.label_field}
            return labels
        logger.info("TCCTM labels from LDA: %d LDA fits of %d iterations to choose the number of topics (give "
                    "label_field=... to use a label field instead)", len(self.label_grid), self.label_iterations)
        try:
            choice = choose_topics(corpus, self.label_grid, language=view.name, seed=self.seed_,
                                   progress=self.progress, iterations=self.label_iterations,
                                   vocabulary_size=self.vocabulary_size, min_df=self.min_df)
        except ParameterError as err:
            raise ParameterError(f"label_grid: {err}") from None
        self.label_names_ = [f"topic {k}" for k in range(choice.n_topics)] + [NO_TOPIC]
        self.label_source_ = choice.record()
        return choice.labels

    # -- network and training -----------------------------------------------------------------
    def _build_network(self, vocabulary_size: int, embedding_size: int) -> TopicVAE:
        """The CombinedTM's network carrying a :class:`LabelClassifier` as ``classifier``."""
        network = super()._build_network(vocabulary_size, embedding_size)
        generator = torch.Generator().manual_seed(self.seed_)
        network.classifier = LabelClassifier(self.hidden_sizes[-1], len(self.label_names_), generator)
        return network

    def _train(self, network: TopicVAE, data: BatchSource, rng: np.random.Generator,
               loss=None) -> TrainingResult:
        """Train on :func:`tcctm_loss` over the training documents and their labels."""
        return super()._train(network, data.with_rows(self.training_labels_), rng,
                              loss=tcctm_loss(network, self.label_weight))

    @torch.no_grad()
    def predict_labels(self, documents, *, embeddings=None) -> np.ndarray:
        """The head's most probable class of each document, as indices into
        ``label_names_`` (``np.asarray(model.label_names_)[model.predict_labels(corpus)]``
        gives the names).

        Parameters
        ----------
        documents : Corpus or list of str
            Texts in the model's language.
        embeddings : ndarray, optional
            Precomputed vectors, one row per text.

        Returns
        -------
        ndarray of int, shape (n_texts,)
        """
        view = self._input_view(documents, None, False, embeddings)
        data = BatchSource(view.counts, view.vectors)
        network = self.network_.eval()
        out = np.empty(len(view), dtype=np.int64)
        for start in range(0, len(view), _PREDICT_BATCH):
            rows = np.arange(start, min(start + _PREDICT_BATCH, len(view)))
            out[rows] = network.classifier(network.inference.represent(*data.batch(rows))).argmax(1).numpy()
        return out

    # -- persistence --------------------------------------------------------------------------
    def _state(self):
        state, arrays = super()._state()
        labels = {"names": self.label_names_, "source": self.label_source_}
        return state | {"labels": labels}, arrays | {"training_labels": self.training_labels_}

    def _restore(self, state, arrays):
        arrays = dict(arrays)
        self.training_labels_ = arrays.pop("training_labels")
        self.label_names_ = list(state["labels"]["names"])
        self.label_source_ = state["labels"]["source"]
        super()._restore(state, arrays)  # builds the network with its classifier, then loads it


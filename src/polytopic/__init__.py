"""polytopic: topic models on pretrained embeddings, offline by default.

The flow is one-directional (see DESIGN.md): a :class:`Corpus` of documents goes
through an encoder (with an on-disk cache) into a topic model; metrics read only the
model's outputs and a reference corpus.
"""

__version__ = "0.1.0"

from polytopic.corpus import Corpus
from polytopic.errors import (
    CorpusError,
    EncoderError,
    MetricError,
    ModelFileError,
    NotFittedError,
    ParameterError,
    PolytopicError,
)
from polytopic.preprocessing import Tokenizer, Vocabulary
from polytopic.models import (
    ETM,
    LDA,
    ClusteringTopics,
    CombinedTM,
    CorEx,
    ProdLDA,
    TopClus,
    TopicModel,
    ZeroShotTM,
    load_model,
)

__all__ = [
    "Corpus",
    "Tokenizer",
    "Vocabulary",
    "TopicModel",
    "ProdLDA",
    "CombinedTM",
    "ZeroShotTM",
    "LDA",
    "ClusteringTopics",
    "CorEx",
    "ETM",
    "TopClus",
    "load_model",
    "PolytopicError",
    "CorpusError",
    "EncoderError",
    "MetricError",
    "ModelFileError",
    "NotFittedError",
    "ParameterError",
    "__version__",
]

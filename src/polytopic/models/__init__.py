"""Topic models, all behind the contract of :mod:`polytopic.models.base`.

:data:`MODELS` maps the names used by the CLI and in saved configurations to classes.
"""

from polytopic.models.base import TopicModel, load_model
from polytopic.models.clustering import ClusteringTopics
from polytopic.models.corex import CorEx
from polytopic.models.ctm import CombinedTM, ProdLDA, ZeroShotTM
from polytopic.models.etm import ETM
from polytopic.models.lda import LDA
from polytopic.models.topclus import TopClus

MODELS: dict[str, type[TopicModel]] = {cls.name: cls for cls in (ProdLDA, CombinedTM, ZeroShotTM, LDA, ClusteringTopics, CorEx, ETM, TopClus)}

__all__ = ["MODELS", "TopicModel", "ProdLDA", "CombinedTM", "ZeroShotTM", "LDA", "ClusteringTopics", "CorEx", "ETM", "TopClus", "load_model"]

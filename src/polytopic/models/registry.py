"""The names of the topic models, resolved without importing them.

:data:`MODEL_TABLE` maps each name (the CLI's ``--model``, the ``model`` field of a saved
``config.json``) to the module and class that implement it and a one-line description,
so that the command line can list and check the models before any of them (and torch)
is imported; :func:`model_class` imports the one asked for.
"""

from __future__ import annotations

import importlib

#: name -> (module, class, one-line description)
MODEL_TABLE: dict[str, tuple[str, str, str]] = {
    "prodlda": ("polytopic.models.ctm", "ProdLDA", "ProdLDA (Srivastava & Sutton 2017): a VAE on bags of words."),
    "combined": ("polytopic.models.ctm", "CombinedTM",
                 "CombinedTM (Bianchi et al. 2021a): bag of words and sentence embedding in."),
    "zeroshot": ("polytopic.models.ctm", "ZeroShotTM",
                 "ZeroShotTM (Bianchi et al. 2021b): sentence embedding in, transfers across languages."),
    "tcctm": ("polytopic.models.tcctm", "TCCTM",
              "TCCTM (Mueller & Dredze 2021): CombinedTM plus a topic-classification head (LDA topic labels)."),
    "lda": ("polytopic.models.lda", "LDA", "LDA (Blei et al. 2003): collapsed Gibbs sampling in tomotopy."),
    "clustering": ("polytopic.models.clustering", "ClusteringTopics",
                   "BERTopic-style: embed, cluster; each topic's most associated words, then words only it has."),
    "corex": ("polytopic.models.corex", "CorEx", "CorEx (Gallagher et al. 2017): total-correlation topics."),
    "etm": ("polytopic.models.etm", "ETM", "ETM (Dieng et al. 2020): topic embeddings x word embeddings."),
    "topclus": ("polytopic.models.topclus", "TopClus",
                "TopClus (Meng et al. 2022): vMF clusters of contextual token embeddings."),
    "zeroshot-kd": ("polytopic.models.distillation", "ZeroShotKD",
                    "ZeroshotTM-KD (Pivovarova & Zosa 2021): a student view distilled from a ZeroShotTM teacher."),
    "m3l": ("polytopic.models.m3l", "M3LContrast",
            "M3L-Contrast (Zosa & Pivovarova 2022): aligned topics across languages and images."),
    "pltm": ("polytopic.models.pltm", "PLTM",
             "PLTM (Mimno et al. 2009): Gibbs-sampled LDA whose aligned languages share θ."),
}


def model_class(name: str) -> type:
    """The class registered as ``name``, its module imported on demand.

    Raises
    ------
    KeyError
        If no model is registered as ``name``.
    """
    module, attribute, _ = MODEL_TABLE[name]
    return getattr(importlib.import_module(module), attribute)


def model_descriptions() -> dict[str, str]:
    """Name -> one-line description, for help texts."""
    return {name: description for name, (_, _, description) in MODEL_TABLE.items()}

"""The files of a saved model: names, format version, and loading (never by pickle).

A model directory holds ``config.json`` (format, model name, parameters, the number of
topics and seed the fit used, views and the model's own JSON state), ``vocabulary.json``
(each language's vocabulary) and ``model.safetensors`` (its arrays). :func:`load_model` resolves the class through the
registry and upgrades the files of earlier formats. Writing is
:meth:`~polytopic.models.base.TopicModel.write`.
"""

from __future__ import annotations

from pathlib import Path

from polytopic.errors import ModelFileError
from polytopic.persistence import read_arrays, read_json

FORMAT = "polytopic-model"
FORMAT_VERSION = 3  # 2: sparse first layer of the VAEs; 3: views (formats 1 and 2 are upgraded on load)
CONFIG_FILE = "config.json"
VOCABULARY_FILE = "vocabulary.json"
ARRAYS_FILE = "model.safetensors"


#: Parameters added to a model after files of it were written: model -> {name: the value
#: that reproduces what those files were fitted with} (the new default may differ).
ADDED_PARAMETERS: dict[str, dict] = {
    "clustering": {"word_weights": "ctfidf", "shared_words": 0, "exclusive_words": 0, "kmeans": "full"},
}


def upgraded_config(config: dict) -> dict:
    """Parameters added since the file was written get the value it was fitted with;
    formats 1 and 2 (one language, no views) get the view bookkeeping."""
    added = ADDED_PARAMETERS.get(config.get("model"), {})
    config = config | {"params": added | config["params"]}
    if config.get("format_version", 0) >= 3:
        return config
    language, state = config["language"], config["state"]
    size = int(state.get("embedding_size", 0))
    return config | {"languages": [language], "views": [language],
                     "embedding_sizes": {language: size} if size else {},
                     "n_dropped": int(state.get("n_dropped", 0))}


def load_model(path: str | Path):
    """Load any saved polytopic model, resolving its class through the registry."""
    from polytopic.models import MODELS
    from polytopic.preprocessing import Vocabulary

    path = Path(path)
    if not path.is_dir():
        raise ModelFileError(f"{path}: no such model directory")
    config = read_json(path / CONFIG_FILE)
    if config.get("format") != FORMAT:
        raise ModelFileError(f"{path / CONFIG_FILE} is not a polytopic model configuration")
    if config.get("format_version", 0) > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was written by a newer polytopic (format {config['format_version']}); upgrade polytopic"
        )
    if config.get("model") not in MODELS:
        raise ModelFileError(f"{path}: unknown model {config.get('model')!r}; known: {sorted(MODELS)}")
    model_cls = MODELS[config["model"]]
    try:
        config = upgraded_config(config)
        model = model_cls(**config["params"])
        model.vocabularies_ = {
            lang: Vocabulary.from_dict(v) for lang, v in read_json(path / VOCABULARY_FILE).items()
        }
        model.language_ = config["language"]
        model.languages_ = tuple(config["languages"])
        model.views_ = tuple(config["views"])
        model.embedding_sizes_ = {k: int(v) for k, v in config["embedding_sizes"].items()}
        model.n_dropped_ = int(config["n_dropped"])
        model.n_topics_ = int(config.get("n_topics", config["params"]["n_topics"]))
        model.seed_ = int(config.get("seed", config["params"].get("seed") or 0))
        model._restore(config["state"], read_arrays(path / ARRAYS_FILE))
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise ModelFileError(f"{path} is corrupted or incomplete ({type(err).__name__}: {err})") from None
    return model

"""Static (model2vec) sentence encoders, distilled on first use, offline, from a packaged encoder.

A static model keeps one vector per vocabulary token and encodes a text as the mean of its
tokens' vectors: no transformer at inference, thousands of documents per second on a CPU.
``model2vec.distill.distill`` builds one from any sentence-transformers model
(``shared/MODELS.md``: 16 s from the packaged MiniLM), but it needs model2vec's
``distill`` extra, which pins transformers below 5.4 and fails to import beside
transformers 5. :func:`distill` therefore mirrors its recipe (model2vec 0.10,
``distill/distillation.py`` and ``distill/inference.py``, defaults unchanged) with what
core model2vec, transformers and numpy provide:

1. every token of the source tokenizer's vocabulary, except ``[unusedN]`` placeholders,
   goes through the source model as ``[bos] token [eos]``; the three outputs are
   mean-pooled into the token's vector;
2. PCA to 256 dimensions (eigenvectors of the covariance, signs fixed so the largest
   projection is positive);
3. row i is scaled by the SIF weight a / (a + p_i), a = 1e-4, with p_i the Zipf
   probability of rank i, the rank being the vocabulary order (Arora et al. 2017);
4. stored as float16 in model2vec's format (``model.safetensors``, ``tokenizer.json``
   without post-processor, ``config.json``), so ``StaticModel.from_pretrained(dir)``
   (core model2vec) loads it; inference is ``StaticModel.encode`` (mean of token rows,
   L2-normalised, no length limit).

The distilled folder lives in the cache (``models/<name>-<fingerprint of the source>``),
written once and atomically (:func:`~polytopic.encoders.e5.build_once`).
"""

from __future__ import annotations

import inspect
import json
import logging
import re
from abc import abstractmethod
from functools import cached_property
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from polytopic.encoders.base import XLMR_LANGUAGES, Encoder
from polytopic.encoders.builds import build_once
from polytopic.encoders.cache import default_cache_dir
from polytopic.encoders.e5 import E5_NAME, converted_model_dir
from polytopic.encoders.identity import directory_fingerprint, model_source
from polytopic.encoders.sentence import PACKAGED_MINILM, packaged_minilm_path
from polytopic.errors import EncoderError, require

logger = logging.getLogger(__name__)

#: Bump when the distillation's output changes: older distillations are then rebuilt.
DISTILL_VERSION = 1
PCA_DIMS = 256
SIF_COEFFICIENT = 1e-4
TOKEN_REMOVE_PATTERN = r"\[unused\d+\]"
_FORWARD_BATCH = 256  # model2vec's batch size for the token forward passes


# --------------------------------------------------------------------------- tokenizer

def _static_tokenizer(source: Path, kept: list[int]):
    """The source tokenizer restricted to ``kept`` ids (renumbered 0, 1, ...), without
    post-processor, padding or truncation: model2vec's ``clean_and_create_vocabulary``."""
    from tokenizers import Tokenizer

    spec = json.loads((source / "tokenizer.json").read_text(encoding="utf-8"))
    model = spec["model"]
    full = Tokenizer.from_str(json.dumps(spec))
    tokens = [full.id_to_token(i) for i in kept]
    if len(kept) < full.get_vocab_size(with_added_tokens=False):
        if model["type"] == "WordPiece":
            model["vocab"] = {token: i for i, token in enumerate(tokens)}
        elif model["type"] == "Unigram":
            model["vocab"] = [model["vocab"][i] for i in kept]
            model["unk_id"] = kept.index(model["unk_id"]) if model.get("unk_id") in kept else None
        else:
            raise EncoderError(f"cannot remove tokens from a {model['type']} vocabulary")
    new_id = {token: i for i, token in enumerate(tokens)}
    spec["added_tokens"] = [dict(t, id=new_id[t["content"]]) for t in spec["added_tokens"] if t["content"] in new_id]
    spec.update(post_processor=None, padding=None, truncation=None)
    return Tokenizer.from_str(json.dumps(spec))


def _vocabulary(tokenizer, remove_pattern: str | None) -> list[int]:
    """Ids of the vocabulary in id order (model2vec's ``sorted_vocabulary``), without
    the tokens matching ``remove_pattern``."""
    pattern = re.compile(remove_pattern) if remove_pattern else None
    size = tokenizer.get_vocab_size(with_added_tokens=False)
    return [i for i in range(size) if not (pattern and pattern.match(tokenizer.id_to_token(i)))]


def _special_ids(tokenizer) -> tuple[list[int], list[int]]:
    """The ids the post-processor puts before and after a text (``[CLS]``/``[SEP]``, ``<s>``/``</s>``)."""
    tokenizer.no_padding()
    tokenizer.no_truncation()
    ids = tokenizer.encode("", add_special_tokens=True).ids
    return ids[: len(ids) // 2], ids[len(ids) // 2 :]


# --------------------------------------------------------------------------- distillation

def token_vectors(model, token_ids: list[int], prefix: list[int], suffix: list[int],
                  progress: bool = True) -> np.ndarray:
    """Mean-pooled output of ``prefix + [t] + suffix`` for every ``t``, shape (n, hidden).

    model2vec's ``create_embeddings`` with mean pooling; every input has the same
    length, so there is no padding to mask.
    """
    import torch

    accepts_types = "token_type_ids" in inspect.signature(model.forward).parameters
    rows = []
    bar = tqdm(total=len(token_ids), desc="distilling", unit="token", disable=not progress, leave=False)
    with bar, torch.inference_mode():
        for start in range(0, len(token_ids), _FORWARD_BATCH):
            middle = torch.tensor(token_ids[start : start + _FORWARD_BATCH])[:, None]
            ends = [torch.tensor(ids, dtype=torch.long).expand(len(middle), -1) for ids in (prefix, suffix)]
            inputs = {"input_ids": torch.cat([ends[0], middle, ends[1]], dim=1)}
            inputs["attention_mask"] = torch.ones_like(inputs["input_ids"])
            if accepts_types:
                inputs["token_type_ids"] = torch.zeros_like(inputs["input_ids"])
            rows.append(model(**inputs).last_hidden_state.float().mean(dim=1).numpy())
            bar.update(len(middle))
    return np.nan_to_num(np.concatenate(rows))


def sif_weights(n_tokens: int, coefficient: float = SIF_COEFFICIENT) -> np.ndarray:
    """A / (a + p_r) with p_r ∝ 1 / (r + 1) for ranks r = 1..n (model2vec ``compute_weights``)."""
    inverse_rank = 1 / np.arange(2, n_tokens + 2)
    probability = inverse_rank / inverse_rank.sum()
    return coefficient / (coefficient + probability)


def pca(vectors: np.ndarray, n_components: int) -> np.ndarray:
    """Scores on the ``n_components`` leading principal axes, shape (n, n_components);
    each axis's sign makes its largest-magnitude score positive (model2vec ``_pca_fit_transform``)."""
    centred = vectors - vectors.mean(axis=0)
    _, eigenvectors = np.linalg.eigh(centred.T @ centred / (len(vectors) - 1))
    scores = centred @ eigenvectors[:, ::-1][:, :n_components]
    signs = np.sign(scores[np.abs(scores).argmax(axis=0), np.arange(scores.shape[1])])
    return scores * signs


def distill(source: str | Path, folder: str | Path, pca_dims: int = PCA_DIMS,
            sif_coefficient: float = SIF_COEFFICIENT, progress: bool = True) -> None:
    """Distil the transformers model directory ``source`` into a model2vec model in ``folder``."""
    model2vec = require("model2vec", "static", "static encoders", EncoderError)
    from tokenizers import Tokenizer
    from transformers import AutoModel

    source = Path(source)
    tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
    kept = _vocabulary(tokenizer, TOKEN_REMOVE_PATTERN)
    prefix, suffix = _special_ids(tokenizer)
    model = AutoModel.from_pretrained(source).eval()
    vectors = token_vectors(model, kept, prefix, suffix, progress=progress)
    dims = min(pca_dims, *vectors.shape)
    vectors = pca(vectors, dims) * sif_weights(len(vectors), sif_coefficient)[:, None]
    config = {"model_type": "model2vec", "architectures": ["StaticModel"], "tokenizer_name": source.name,
              "apply_pca": dims, "sif_coefficient": sif_coefficient, "hidden_dim": dims,
              "seq_length": 1_000_000, "normalize": True, "pooling": "mean"}
    static = model2vec.StaticModel(vectors=vectors.astype(np.float16), tokenizer=_static_tokenizer(source, kept),
                                   config=config, normalize=True, base_model_name=source.name, max_length=None)
    static.save_pretrained(folder)


def distilled_model_dir(source: str | Path, name: str, models_root: str | Path | None = None,
                        description: str = "", progress: bool = True) -> Path:
    """``<models_root>/<name>-<fingerprint of source>``, distilled on the first call.

    ``models_root`` defaults to ``default_cache_dir() / "models"``; ``description``
    completes the log line ("distilling static-minilm from ...").
    """
    source = Path(source)
    root = Path(models_root) if models_root else default_cache_dir() / "models"
    target = root / f"{name}-{directory_fingerprint(source)}"

    def build(folder: Path) -> None:
        logger.info("distilling %s from %s into %s", name, description or source, target)
        distill(source, folder, progress=progress)

    return build_once(target, build, DISTILL_VERSION)


# --------------------------------------------------------------------------- encoders

class StaticEncoder(Encoder):
    """A model2vec static model distilled once from :attr:`source` (see the module docstring).

    Subclasses name the source model; the distilled folder is :attr:`model_path`.

    Parameters
    ----------
    batch_size : int
        Texts per call to ``StaticModel.encode`` (the cost is tokenisation, so large).
    **options
        ``sort_by_length``, ``cache_dir``, ``progress`` (:class:`Encoder`).
    """

    #: Says where the model comes from and how long distilling takes, for the log line.
    description: str

    def __init__(self, batch_size: int = 1024, **options):
        require("model2vec", "static", f"the {self.name} encoder", EncoderError)
        super().__init__(batch_size=batch_size, **options)

    @property
    @abstractmethod
    def source(self) -> Path:
        """The transformers model directory distilled."""

    @cached_property
    def model_path(self) -> str:
        """The distilled model2vec folder (distilled on first access)."""
        root = (self.cache_root or default_cache_dir()) / "models"
        return str(distilled_model_dir(self.source, self.name, root, self.description, progress=self.progress))

    @cached_property
    def model(self):
        from model2vec import StaticModel

        return StaticModel.from_pretrained(self.model_path)

    @cached_property
    def identity(self) -> str:
        return f"model2vec:{model_source(self.model_path, self.cache_root)}"

    @cached_property
    def dimension(self) -> int:
        return int(json.loads((Path(self.model_path) / "config.json").read_text())["hidden_dim"])

    def _encode_batch(self, texts):
        return self.model.encode(texts, batch_size=len(texts), max_length=None, use_multiprocessing=False)


class StaticMiniLMEncoder(StaticEncoder):
    """``static-minilm``: 256-d static vectors distilled from the packaged all-MiniLM-L6-v2
    (English, 29.5k WordPiece tokens; about 20 s once on 2 idle cores).

    ~6,700 docs/s against MiniLM's ~40 on Debian descriptions, 2 cores
    (``benchmarks/results/encoders.json``); its quality for topics is still to be measured.
    """

    name = "static-minilm"
    languages = frozenset({"en"})
    description = f"{PACKAGED_MINILM} (once, ~20 s)"

    @property
    def source(self) -> Path:
        return packaged_minilm_path()


class StaticE5Encoder(StaticEncoder):
    """``static-e5``: 256-d static vectors distilled from multilingual-e5-small (converted
    by :func:`~polytopic.encoders.e5.converted_model_dir` first).

    It distils and runs, but is slow to build and weak across languages. The XLM-R
    vocabulary has 250k pieces, 8x MiniLM's, through a model twice as deep: about 930
    pieces/s on 2 idle cores (~4.5 min, once); 17.6 min measured on a shared, loaded
    machine. Encoding: ~4,200 docs/s. Top-1 retrieval of the translation among 1,000
    aligned Debian descriptions (``benchmarks/results/encoders.json``): en->de 0.17,
    en->fr 0.43, en->it 0.29, against 0.99 for multilingual-e5-small itself — the
    cross-lingual alignment lives in the contextual layers, not in per-piece vectors.
    Pieces are embedded without e5's "passage: " prefix, as model2vec does, and texts are
    encoded without it.
    """

    name = "static-e5"
    languages = XLMR_LANGUAGES
    description = f"{E5_NAME} (once, 250k tokens: several minutes)"

    @property
    def source(self) -> Path:
        return converted_model_dir((self.cache_root or default_cache_dir()) / "models")

"""Contextual word vectors from a Hugging Face encoder (TopClus, Meng et al. 2022 §3.1).

The encoder is not fine-tuned: its last hidden states serve. Word pieces are merged back
into words by averaging; a word is the span the tokenizer's pre-tokenisation marks (BERT:
runs of letters/digits, punctuation apart), lower-cased, so that it lines up with the
corpus tokeniser's words. A text longer than the encoder's window is split into windows at
word boundaries, each encoded on its own (logged as a warning, never truncated).

Vectors are cached per text (float16, content-keyed, in the same SQLite store as sentence
vectors) and streamed back in chunks of texts by :meth:`TokenEncoder.iter_encode`, so a
model can keep only the tokens it needs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from polytopic.encoders.base import BaseEncoder
from polytopic.encoders.cache import text_key
from polytopic.encoders.identity import model_source
from polytopic.encoders.sentence import PACKAGED_MINILM, resolve_model_path
from polytopic.errors import EncoderError

logger = logging.getLogger(__name__)

_MAX_WINDOW = 512


@dataclass
class TokenVectors:
    """Words and their contextual vectors for a chunk of texts.

    ``positions`` are the texts' indices in the input; ``words[i]`` are the words of text
    ``positions[i]`` and ``vectors[i]`` their vectors, shape (len(words[i]), dimension).
    """

    positions: np.ndarray
    words: list[list[str]]
    vectors: list[np.ndarray]


class TokenEncoder(BaseEncoder):
    """Word-level contextual vectors of any Hugging Face encoder (default: the packaged
    all-MiniLM-L6-v2, a 6-layer BERT, 384-d).

    Parameters
    ----------
    model : str
        ``"all-MiniLM-L6-v2"`` (packaged, offline) or a local model directory.
    window : int, optional
        Word pieces per forward pass including [CLS]/[SEP] (default: the model's limit,
        at most 512, and a sentence-transformers model's trained ``max_seq_length``).
    batch_size : int
        Windows per forward pass (sorted by length, so padding stays small).
    cache_dir : str, Path or False
        Cache location (default :func:`default_cache_dir`); False disables caching.
    device : str, optional
    progress : bool
    """

    cache_dtype = "float16"

    def __init__(self, model: str = PACKAGED_MINILM, *, window: int | None = None, batch_size: int = 32,
                 cache_dir: str | Path | bool | None = None, device: str | None = None, progress: bool = True):
        super().__init__(batch_size=batch_size, cache_dir=cache_dir, progress=progress)
        self.name = model
        self.model_path = resolve_model_path(model)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self._window = window

    @cached_property
    def tokenizer(self):
        from transformers import AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(self.model_path)
        except Exception as err:  # transformers raises many types for a missing model
            raise EncoderError(f"cannot load the tokenizer of {self.name!r} ({err}); use a local path") from err
        if not tokenizer.is_fast:
            raise EncoderError(f"{self.name!r} has no fast tokenizer: word offsets are needed to merge word pieces")
        return tokenizer

    @cached_property
    def model(self):
        from transformers import AutoModel

        try:
            model = AutoModel.from_pretrained(self.model_path).to(self.device).eval()
        except Exception as err:
            raise EncoderError(f"cannot load encoder {self.name!r} ({err}); use a local path") from err
        if len(self.tokenizer) > model.get_input_embeddings().num_embeddings:
            raise EncoderError(f"the tokenizer of {self.name!r} has {len(self.tokenizer)} pieces but the model "
                               f"only {model.get_input_embeddings().num_embeddings}: they do not belong together")
        return model

    @cached_property
    def dimension(self) -> int:
        from transformers import AutoConfig

        return int(AutoConfig.from_pretrained(self.model_path).hidden_size)

    @cached_property
    def window(self) -> int:
        from transformers import AutoConfig

        limit = min(getattr(AutoConfig.from_pretrained(self.model_path), "max_position_embeddings", _MAX_WINDOW),
                    self.tokenizer.model_max_length, _MAX_WINDOW)
        trained = Path(self.model_path) / "sentence_bert_config.json"  # the length it was trained on
        if trained.is_file():
            limit = min(limit, json.loads(trained.read_text()).get("max_seq_length") or limit)
        window = self._window or limit
        if not 3 <= window <= limit:
            raise EncoderError(f"window must be in [3, {limit}] word pieces for {self.name!r}, got {window}")
        return window

    @cached_property
    def identity(self) -> str:
        return f"tokens:{model_source(self.model_path, self.cache_root)}:last-hidden:word-mean:window={self.window}"

    # -- words ------------------------------------------------------------------------------
    def _pieces(self, texts: Sequence[str]):
        """Per text: piece ids, word index of each piece, and the words (lower-cased)."""
        encoded = self.tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True,
                                 verbose=False)
        for i, text in enumerate(texts):
            word_of = np.array([-1 if w is None else w for w in encoded.word_ids(i)], dtype=np.int64)
            ids = np.asarray(encoded["input_ids"][i], dtype=np.int64)
            offsets = np.asarray(encoded["offset_mapping"][i], dtype=np.int64).reshape(-1, 2)
            ids, offsets, word_of = ids[word_of >= 0], offsets[word_of >= 0], word_of[word_of >= 0]
            _, word_of = np.unique(word_of, return_inverse=True)  # words numbered 0..n-1
            starts = np.full(word_of.max(initial=-1) + 1, len(text))
            ends = np.zeros_like(starts)
            np.minimum.at(starts, word_of, offsets[:, 0])
            np.maximum.at(ends, word_of, offsets[:, 1])
            yield ids, word_of, [text[a:b].lower() for a, b in zip(starts, ends)]

    def words(self, texts: Sequence[str]) -> list[list[str]]:
        """The words :meth:`iter_encode` gives vectors for, per text."""
        return [words for _, _, words in self._pieces(texts)]

    def _windows(self, word_of: np.ndarray) -> list[tuple[int, int]]:
        """[start, end) piece ranges of at most window − 2 pieces, cut between words."""
        size, cuts, start = self.window - 2, [], 0
        while start < len(word_of):
            end = min(start + size, len(word_of))
            if end < len(word_of):
                boundary = np.flatnonzero(word_of[start + 1 : end + 1] != word_of[start:end])
                end = start + 1 + boundary[-1] if boundary.size else end  # one word longer than a window: cut it
            cuts.append((start, end))
            start = end
        return cuts

    # -- encoding ---------------------------------------------------------------------------
    @torch.no_grad()
    def _encode(self, pieces: list[tuple[np.ndarray, np.ndarray, list[str]]]) -> list[np.ndarray]:
        """Word vectors (n_words, dimension) for each text's pieces."""
        windows = [(t, a, b) for t, (_, word_of, _) in enumerate(pieces) for a, b in self._windows(word_of)]
        sums = [np.zeros((len(words), self.dimension), dtype=np.float32) for _, _, words in pieces]
        counts = [np.bincount(word_of, minlength=len(words)) for _, word_of, words in pieces]
        order = np.argsort([a - b for _, a, b in windows], kind="stable")  # longest first
        special = (self.tokenizer.cls_token_id, self.tokenizer.sep_token_id)
        for start in range(0, len(order), self.batch_size):
            batch = [windows[i] for i in order[start : start + self.batch_size]]
            width = max(b - a for _, a, b in batch) + 2
            ids = np.full((len(batch), width), self.tokenizer.pad_token_id or 0, dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, (t, a, b) in enumerate(batch):
                ids[row, : b - a + 2] = [special[0], *pieces[t][0][a:b], special[1]]
                mask[row, : b - a + 2] = 1
            hidden = self.model(input_ids=torch.from_numpy(ids).to(self.device),
                                attention_mask=torch.from_numpy(mask).to(self.device)).last_hidden_state
            hidden = hidden.float().cpu().numpy()
            for row, (t, a, b) in enumerate(batch):
                np.add.at(sums[t], pieces[t][1][a:b], hidden[row, 1 : b - a + 1])
        return [s / np.maximum(c, 1)[:, None] for s, c in zip(sums, counts)]

    def iter_encode(self, texts: Sequence[str], chunk_size: int = 256) -> Iterator[TokenVectors]:
        """Yield :class:`TokenVectors` for consecutive chunks of ``texts`` (float16 vectors);
        texts in the cache are read back, the others encoded and cached."""
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise EncoderError("iter_encode takes a sequence of texts")
        bar = tqdm(total=len(texts), desc=f"token vectors ({self.name})", unit="doc",
                   disable=not self.progress, leave=False)
        long_texts: list[int] = []  # per chunk, texts split into windows
        try:
            yield from self._encode_chunks(texts, chunk_size, bar, long_texts)
        finally:  # one warning per call, not per chunk; also when the caller stops early
            if sum(long_texts):
                logger.warning("%d of %d texts were longer than %s's window of %d word pieces: each was split "
                               "into windows encoded on their own", sum(long_texts), len(texts), self.name,
                               self.window)

    def _encode_chunks(self, texts, chunk_size, bar, long_texts: list[int]) -> Iterator[TokenVectors]:
        with bar:
            for start in range(0, len(texts), chunk_size):
                chunk = list(texts[start : start + chunk_size])
                pieces = list(self._pieces(chunk))
                keys = [text_key(t) for t in chunk]
                blocks = self.cache.get_rows(keys) if self.cache is not None else [None] * len(chunk)
                missing = [i for i, (b, p) in enumerate(zip(blocks, pieces)) if b is None or len(b) != len(p[2])]
                if missing:
                    long_texts.append(sum(len(self._windows(pieces[i][1])) > 1 for i in missing))
                    fresh = [v.astype(np.float16) for v in self._encode([pieces[i] for i in missing])]
                    for i, vectors in zip(missing, fresh):
                        blocks[i] = vectors
                    if self.cache is not None:
                        self.cache.put_rows([keys[i] for i in missing], fresh)
                bar.update(len(chunk))
                yield TokenVectors(np.arange(start, start + len(chunk)), [p[2] for p in pieces], blocks)

    @torch.no_grad()
    def static_word_vectors(self, words: Sequence[str]) -> np.ndarray:
        """Input-embedding vectors of ``words`` (mean over each word's pieces), shape
        (len(words), dimension): context-free word embeddings (ETM's ρ)."""
        table = self.model.get_input_embeddings().weight.detach().float().cpu().numpy()
        encoded = self.tokenizer(list(words), add_special_tokens=False)["input_ids"]
        return np.stack([table[ids].mean(0) if ids else np.zeros(self.dimension, np.float32) for ids in encoded])

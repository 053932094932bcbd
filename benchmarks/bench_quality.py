r"""Topic quality of every polytopic model and every peer library on one footing (issue #14).

Each model is fitted on the same documents (the first N English Debian descriptions), the
same 2,000-word vocabulary (polytopic's default: most frequent words, min_df 2,
polytopic's default stopwords and tokenizer) and the same sentence vectors (polytopic's
default encoder, all-MiniLM-L6-v2, from its on-disk cache), once per seed, and scored the
same way. polytopic models run at their DEFAULT settings (``MODELS[name](n_topics=K,
seed=seed)``); peers at their libraries' defaults except for K, the vocabulary, the
vectors and the seed:

- ``ctm-combined`` / ``ctm-zeroshot``: contextualized-topic-models CombinedTM / ZeroShotTM
  (100 epochs), fed polytopic's bag of words and the vectors as bench_ctm.py does;
- ``tomotopy-lda``: ``tomotopy.LDAModel(k=K, seed=seed)``, 1,000 iterations, on each
  document's vocabulary tokens;
- ``bertopic``: BERTopic with its default UMAP (seeded) and KMeans(K) in place of HDBSCAN,
  the vocabulary as a CountVectorizer, top_n_words=25, the vectors passed in;
- ``turftopic-keynmf`` / ``turftopic-gmm`` / ``turftopic-s3``: KeyNMF, GMM,
  SemanticSignalSeparation with the same CountVectorizer and vectors passed in; their
  encoder (KeyNMF and S3 embed the vocabulary's words) is polytopic's, wrapped.

Scores per fit (top-10 words for coherence): ``npmi`` (polytopic c_npmi against the
training documents as the models tokenise them; ``npmi25`` the same over the first 25
words), ``npmi_shared`` (shared/tools/score_npmi.py over the raw training texts), the
same two against ``--heldout`` later documents, ``diversity10`` / ``diversity25`` and
``fit_seconds``; see ``settings.scoring`` in the output for the exact definitions. The
JSON is rewritten after every fit; ``--resume`` skips the model x seed rows already in
it. Each row names the ``device`` torch (so polytopic and CTM) fitted on: fit times from
a GPU and a CPU do not compare.

Fitting on another machine (a GPU with no gensim, encoder package or shared/tools
there): ``--export-vectors FILE.npy`` writes the N documents' vectors from the encoder's
cache, with ``FILE.json`` beside it naming the encoder and hashing the texts and
vocabulary; there ``--vectors FILE.npy --fit-only`` builds the same Data without the
encoder (refusing other texts or another vocabulary), fits and keeps the topics
unscored; here ``--score-fits FITS.json ...`` scores those rows against the same
references and merges them into ``--out`` as ``--resume`` would.

    python benchmarks/bench_quality.py --docs 20000 --topics 50 --seeds 0,1,2 \
        --models lda,combined,zeroshot,clustering,etm,ctm-combined,ctm-zeroshot,tomotopy-lda,bertopic,\
turftopic-keynmf,turftopic-gmm,turftopic-s3 [--heldout 5000] [--option etm.epochs=50] [--out PATH] [--resume]
    python benchmarks/bench_quality.py --docs 20000 --export-vectors .gpu/vectors-20000.npy       # here
    python3 bench_quality.py --vectors ../.gpu/vectors-20000.npy --fit-only --models ... --out FITS.json  # GPU
    python benchmarks/bench_quality.py --docs 20000 --heldout 5000 --score-fits FITS.json --out PATH  # here
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import hashlib
import importlib.metadata
import io
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
from common import debian_english, flatten, mean_sd, score_npmi, write_reference

from polytopic.encoders import get_encoder
from polytopic.evaluation import score_topics
from polytopic.metrics import ReferenceTexts
from polytopic.models import MODEL_TABLE
from polytopic.preprocessing import DEFAULT_VOCABULARY_SIZE

RESULTS = Path(__file__).parent / "results"
TOP_N = 25  # words kept per topic; coherence reads the first 10
SCORES = ("npmi", "npmi25", "npmi_shared", "npmi_heldout", "npmi_shared_heldout", "diversity10", "diversity25",
          "fit_seconds")
TOMOTOPY_ITERATIONS, TOMOTOPY_STEP = 1000, 10
PACKAGES = ("polytopic", "torch", "numpy", "scikit-learn", "gensim", "contextualized-topic-models", "tomotopy",
            "bertopic", "turftopic", "umap-learn", "sentence-transformers")


class Data:
    """What every fit shares: corpus, texts, vocabulary, bag of words, vectors, encoder."""

    def __init__(self, corpus, vocabulary, embeddings, encoder):
        self.corpus = corpus
        self.texts = corpus.texts("en")
        self.vocabulary = vocabulary
        self.embeddings = embeddings
        self.encoder = encoder
        self._bow = None

    @property
    def bow(self):
        if self._bow is None:
            self._bow = self.vocabulary.bag_of_words(self.texts)
        return self._bow

    def vectorizer(self):
        """scikit-learn's CountVectorizer over exactly this vocabulary and tokenizer."""
        from sklearn.feature_extraction.text import CountVectorizer

        return CountVectorizer(vocabulary=list(self.vocabulary.words), tokenizer=self.vocabulary.tokenizer.tokenize,
                               lowercase=False, token_pattern=None)


class CachedEncoder:
    """polytopic's encoder behind the ``encode(texts, **kwargs)`` that Turftopic calls.
    Documents come with ``fit(..., embeddings=...)``; Turftopic asks it only for the
    vocabulary's words (KeyNMF, S3), which are encoded before any fit (and cached)."""

    def __init__(self, encoder):
        self.encoder = encoder

    def encode(self, texts, **_):
        return self.encoder.encode(list(texts))


@contextlib.contextmanager
def quiet():
    """Peers' console chatter (Turftopic's rich status, CTM's per-epoch progress bar) held
    back; shown only if the fit fails."""
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield
    except BaseException:
        sys.stderr.write(out.getvalue()[-5000:] + err.getvalue()[-5000:])
        raise


def timed(fit) -> float:
    started = time.perf_counter()
    fit()
    return time.perf_counter() - started


# -- fits: each returns (fit seconds, top-25 word lists, extra fields) --------------------------
def fit_polytopic(name: str, data: Data, k: int, seed: int, options: dict):
    from polytopic.models import MODELS

    cls = MODELS[name]
    model = cls(**{"n_topics": k, "seed": seed, "progress": False, **options})
    embeddings = data.embeddings if cls.reads_vectors else None
    seconds = timed(lambda: model.fit(data.corpus, embeddings=embeddings))
    assert model.vocabularies_["en"] == data.vocabulary, f"{name} fitted another vocabulary than the peers get"
    params = {k: v for k, v in model.get_params().items() if isinstance(v, (int, float, str, bool, type(None)))}
    return seconds, model.topics(top_n=TOP_N), {"n_dropped": model.n_dropped_, "params": params}


def fit_ctm(kind: str, data: Data, k: int, seed: int, options: dict):
    import torch
    from contextualized_topic_models.datasets.dataset import CTMDataset
    from contextualized_topic_models.models.ctm import CombinedTM, ZeroShotTM

    torch.manual_seed(seed)
    np.random.seed(seed)
    dataset = CTMDataset(X_contextual=data.embeddings, X_bow=data.bow,
                         idx2token=dict(enumerate(data.vocabulary.words)))
    cls = CombinedTM if kind == "combined" else ZeroShotTM
    model = cls(bow_size=len(data.vocabulary), contextual_size=data.embeddings.shape[1], n_components=k, **options)
    with quiet():
        seconds = timed(lambda: model.fit(dataset, verbose=False))
    return seconds, [list(t) for t in model.get_topic_lists(TOP_N)], {"num_epochs": model.num_epochs}


def fit_tomotopy(data: Data, k: int, seed: int, options: dict):
    import tomotopy

    options = dict(options)
    iterations = int(options.pop("iterations", TOMOTOPY_ITERATIONS))
    workers = int(options.pop("workers", 0))  # tomotopy's default: all cores
    words = np.array(data.vocabulary.words, dtype=object)
    ids, indptr = data.vocabulary.token_ids(data.texts)
    model = tomotopy.LDAModel(**{"k": k, "seed": seed, **options})
    skipped = 0
    for lo, hi in zip(indptr[:-1], indptr[1:]):
        if hi > lo:
            model.add_doc(words[ids[lo:hi]].tolist())
        else:
            skipped += 1

    def train():
        for done in range(0, iterations, TOMOTOPY_STEP):
            model.train(min(TOMOTOPY_STEP, iterations - done), workers=workers)

    seconds = timed(train)
    topics = [[w for w, _ in model.get_topic_words(t, top_n=TOP_N)] for t in range(k)]
    return seconds, topics, {"iterations": iterations, "workers": workers, "n_dropped": skipped}


def fit_bertopic(data: Data, k: int, seed: int, options: dict):
    from bertopic import BERTopic
    from sklearn.cluster import KMeans
    from umap import UMAP

    model = BERTopic(**{"umap_model": UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                                           random_state=seed),
                        "hdbscan_model": KMeans(k, random_state=seed), "vectorizer_model": data.vectorizer(),
                        "top_n_words": TOP_N,
                        # language="english" (the default when no embedding_model is given) makes BERTopic
                        # strip every character but [A-Za-z0-9 ] before the vectorizer sees the texts
                        # ("command-line" -> "commandline", "café" -> "caf"): vocabulary words then never
                        # occur and c-TF-IDF divides by a zero document frequency. None, as BERTopic sets it
                        # itself whenever an embedding_model is given, hands the vectorizer the texts as is.
                        "language": None, **options})
    with quiet():
        seconds = timed(lambda: model.fit_transform(data.texts, embeddings=data.embeddings))
    ranked = [model.get_topic(t) for t in sorted(model.get_topics()) if t != -1]
    # BERTopic pads a topic with ("", 1e-5) where fewer words than top_n_words score > 0.
    empty = sum(w == "" for topic in ranked for w, _ in topic)
    return seconds, [[w for w, _ in topic if w] for topic in ranked], {"empty_words": empty}


def fit_turftopic(kind: str, data: Data, k: int, seed: int, options: dict):
    from turftopic import GMM, KeyNMF, SemanticSignalSeparation

    cls = {"keynmf": KeyNMF, "gmm": GMM, "s3": SemanticSignalSeparation}[kind]
    model = cls(**{"n_components": k, "encoder": CachedEncoder(data.encoder), "vectorizer": data.vectorizer(),
                   "random_state": seed, **options})
    with quiet():
        seconds = timed(lambda: model.fit(data.texts, embeddings=data.embeddings))
    topics = model.get_top_words(top_k=TOP_N)
    components = np.asarray(model.components_)
    vocab = {w: i for i, w in enumerate(model.get_vocab())}
    # words ranked in the top 25 with no positive importance (ties at 0 are ranked arbitrarily)
    unranked = sum(components[t, vocab[w]] <= 0 for t, words in enumerate(topics) for w in words)
    return seconds, [list(t) for t in topics], {"zero_score_words": int(unranked)}


PEERS = {
    "ctm-combined": lambda *a: fit_ctm("combined", *a),
    "ctm-zeroshot": lambda *a: fit_ctm("zeroshot", *a),
    "tomotopy-lda": fit_tomotopy,
    "bertopic": fit_bertopic,
    "turftopic-keynmf": lambda *a: fit_turftopic("keynmf", *a),
    "turftopic-gmm": lambda *a: fit_turftopic("gmm", *a),
    "turftopic-s3": lambda *a: fit_turftopic("s3", *a),
}


def fit(name: str, data: Data, k: int, seed: int, options: dict):
    if name in MODEL_TABLE:
        return fit_polytopic(name, data, k, seed, options)
    return PEERS[name](data, k, seed, options)


def device_name() -> str:
    """The device torch picks (polytopic and CTM fit on CUDA when there is one)."""
    import torch

    if torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)}"
    return f"cpu: {os.cpu_count()} cores"


def sha256(words) -> str:
    return hashlib.sha256("\n".join(words).encode("utf-8")).hexdigest()


def export_vectors(path: Path, texts: list[str], vocabulary, embeddings: np.ndarray, encoder: str) -> None:
    """``embeddings`` as ``path`` (.npy) and, beside it (.json), what they belong to."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, embeddings)
    manifest = {"encoder": encoder, "docs": len(texts), "shape": list(embeddings.shape), "texts_sha256": sha256(texts),
                "vocabulary_sha256": sha256(vocabulary.words)}
    path.with_suffix(".json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")


def load_vectors(path: Path, texts: list[str], vocabulary) -> tuple[np.ndarray, str]:
    """The vectors ``export_vectors`` wrote and their encoder's name, refused unless these
    very texts and this very vocabulary (the one built here) were exported with them."""
    manifest = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    embeddings = np.load(path)
    if manifest["texts_sha256"] != sha256(texts) or embeddings.shape[0] != len(texts):
        raise SystemExit(f"{path} holds the vectors of other texts ({manifest['docs']} documents)")
    if manifest["vocabulary_sha256"] != sha256(vocabulary.words):
        raise SystemExit(f"the vocabulary built here (sha256 {sha256(vocabulary.words)}) is not the one {path} was "
                         f"exported with ({manifest['vocabulary_sha256']})")
    return embeddings, manifest["encoder"]


# -- scoring ----------------------------------------------------------------------------------
class Scorer:
    """The training (and held-out) references, built once; scores one fit's topics."""

    def __init__(self, data: Data, heldout, scratch: Path):
        tokenizer = data.vocabulary.tokenizer
        self.scratch = scratch
        self.references = {"": (ReferenceTexts(data.corpus.tokens("en", tokenizer=tokenizer)),
                                 write_reference(data.texts, scratch / "train.jsonl"))}
        if heldout is not None:
            self.references["_heldout"] = (ReferenceTexts(heldout.tokens("en", tokenizer=tokenizer)),
                                           write_reference(heldout.texts("en"), scratch / "heldout.jsonl"))
        # polytopic's coherence settings per reference (window, number of windows, epsilon): the
        # same for every topic set, so read once off two vocabulary words
        probe = [list(data.vocabulary.words[:2])]
        self.settings = {}
        for suffix, (tokens, _) in self.references.items():
            found = score_topics(probe, tokens, measures=("c_npmi",))["coherence"]["c_npmi"]
            self.settings[f"npmi{suffix}"] = {k: v for k, v in found.items()
                                              if k not in ("mean", "per_topic", "skipped_words")}

    def score(self, topics: list[list[str]]) -> dict:
        top10 = [t[:10] for t in topics]
        scores = {}
        for suffix, (tokens, jsonl) in self.references.items():
            scored = score_topics(topics, tokens, measures=("c_npmi",))
            npmi = scored["coherence"]["c_npmi"]
            scores[f"npmi{suffix}"] = npmi["mean"]
            scores[f"npmi_shared{suffix}"] = score_npmi(top10, jsonl, self.scratch)
            scores[f"npmi{suffix}_missing_words"] = sum(map(len, npmi["skipped_words"].values()))
            scores[f"npmi{suffix}_undefined_topics"] = sum(value is None for value in npmi["per_topic"])
            if not suffix:
                scores["diversity10"] = scored["diversity"]["topic_diversity_top10"]
                scores["diversity25"] = scored["diversity"]["topic_diversity"]
        if min(map(len, topics)) >= TOP_N:
            top25 = score_topics(topics, self.references[""][0], measures=("c_npmi",), top_n=TOP_N)
            scores["npmi25"] = top25["coherence"]["c_npmi"]["mean"]
        return scores


def stopword_list(tokenizer) -> str:
    """Which list the vocabulary's tokenizer drops, named by its source."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from polytopic.preprocessing import iso_stopwords

    if tokenizer.stopwords == ENGLISH_STOP_WORDS:
        source = "scikit-learn ENGLISH_STOP_WORDS"
    elif tokenizer.stopwords == iso_stopwords(tokenizer.language):
        source = f"stopwordsiso '{tokenizer.language}'"
    else:
        source = "a custom list"
    return f"{source} ({len(tokenizer.stopwords)} words)"


def scoring_description(args, vocabulary, settings: dict) -> dict:
    tokenizer = vocabulary.tokenizer
    tokens = (f"polytopic's Tokenizer (the vocabulary's): lowercased, tokens = runs of [^\\W_] (letters and "
              f"digits), {stopword_list(tokenizer)} removed, tokens "
              f"shorter than {tokenizer.min_length} characters and pure numbers dropped; every word kept, not only "
              "vocabulary words")
    npmi = ("polytopic.evaluation.score_topics(topics, ReferenceTexts(...), measures=('c_npmi',)), top_n=10: NPMI "
            "of every pair of a "
            "topic's first 10 words, boolean sliding window of 10 tokens (gensim's c_npmi default), epsilon 1e-12, "
            "equal to gensim CoherenceModel(coherence='c_npmi', topn=10); topic words absent from the reference "
            "skipped (counted in *_missing_words), mean over topics with >= 2 scorable words")
    shared = ("benchmarks/common.score_npmi -> shared/tools/score_npmi.py: gensim CoherenceModel c_npmi, topn 10, "
              "default sliding window 10, reference = the raw texts lowercased, tokens = runs of letters "
              "[^\\W\\d_]+, less scikit-learn's ENGLISH_STOP_WORDS; topic words that are not purely alphabetic or "
              "absent from the reference dropped before taking each topic's first 10; topics left with < 2 words "
              "dropped")
    return {
        "top_n_coherence": 10,
        "top_n_words_kept": TOP_N,
        "npmi": f"{npmi}; reference = the {args.docs} training documents, tokenised by {tokens}",
        "npmi25": "as npmi over each topic's first 25 words (top_n=25); null where a model returned fewer",
        "npmi_shared": f"{shared}; reference = the {args.docs} training texts",
        "npmi_heldout": (f"as npmi, reference = the {args.heldout} held-out documents (dev descriptions "
                         f"{args.docs}..{args.docs + args.heldout - 1}), same tokeniser") if args.heldout else None,
        "npmi_shared_heldout": (f"as npmi_shared, reference = the {args.heldout} held-out texts"
                                if args.heldout else None),
        "diversity10": "polytopic.metrics.topic_diversity(topics, 10): unique words / (K * 10) over the top-10 lists",
        "diversity25": ("polytopic.metrics.topic_diversity(topics, 25): unique words / (K * 25) over the top-25 "
                        "lists (Dieng et al. 2020); null where a model returned fewer than 25 words for a topic"),
        "fit_seconds": "wall time of the fit call only; sentence vectors precomputed and passed in",
        "topic_words": "each model's own ranking: polytopic topics(25), CTM get_topic_lists(25), tomotopy "
                       "get_topic_words(top_n=25), BERTopic get_topic (c-TF-IDF, top_n_words=25, empty padding "
                       "removed), Turftopic get_top_words(25) (components_)",
        "polytopic_coherence_settings": settings,
    }


# -- bookkeeping ------------------------------------------------------------------------------------
def parse_options(pairs: list[str], models: list[str]) -> dict[str, dict]:
    """``model.key=value`` (value JSON, else a string) -> {model: {key: value}}."""
    options = {name: {} for name in models}
    for pair in pairs:
        target, sep, value = pair.partition("=")
        name, dot, key = target.partition(".")
        if not (sep and dot and key) or name not in options:
            raise SystemExit(f"--option {pair!r}: expected MODEL.KEY=VALUE with MODEL one of {models}")
        try:
            options[name][key] = json.loads(value)
        except json.JSONDecodeError:
            options[name][key] = value
    return options


def label_of(name: str, options: dict) -> str:
    return name if not options else name + "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in options.items()) + "]"


def versions() -> dict:
    found = {}
    for package in PACKAGES:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    if found["polytopic"] is None:  # run from a source tree (PYTHONPATH=src), as on a GPU machine
        from polytopic.version import __version__

        found["polytopic"] = __version__
    return found


def fit_row(name: str, label: str, seed: int, options: dict, device: str, fitted) -> dict:
    """One fit's row, unscored: ``fitted`` is what ``fit`` returns."""
    seconds, topics, extra = fitted
    return {"model": name, "label": label, "seed": seed, "options": options, "fit_seconds": round(seconds, 2),
            "device": device, "n_topics": len(topics), "words_per_topic_min": min(map(len, topics)), **extra,
            "topics": [" ".join(t) for t in topics]}


def scored(row: dict, scorer: Scorer) -> dict:
    """``row`` with the scores of its topics, put after its fit time and device."""
    at = list(row).index("device") + 1
    items = list(row.items())
    return dict(items[:at] + list(scorer.score([t.split() for t in row["topics"]]).items()) + items[at:])


def check_same_run(old: dict, settings: dict, path: Path, heldout: bool = True) -> None:
    """Refuse to merge ``path`` (whose settings are ``old``) into a run with ``settings``."""
    keys = ("docs", "heldout", "topics") if heldout else ("docs", "topics")
    if any(old[k] != settings[k] for k in keys):
        raise SystemExit(f"{path} holds another run ({', '.join(f'{k} {old[k]}' for k in keys)}); give another --out")
    if ((old["vocabulary"], old["encoder"]) != (settings["vocabulary"], settings["encoder"])
            or old.get("vocabulary_sha256", settings["vocabulary_sha256"]) != settings["vocabulary_sha256"]):
        raise SystemExit(f"{path} was made with another vocabulary or encoder ({old['vocabulary']}, "
                         f"{old['encoder']}); give another --out")


def summarise(fits: list[dict]) -> dict:
    labels = list(dict.fromkeys(row["label"] for row in fits))
    return {label: mean_sd([flatten({k: row.get(k) for k in SCORES})
                            for row in fits if row["label"] == label]) for label in labels}


def write_atomically(out: Path, result: dict) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    result["summary"] = summarise(result["fits"])
    temporary = out.with_name(out.name + ".tmp")
    temporary.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, out)


def table(summary: dict) -> str:
    def cell(stats: dict, key: str, digits: int = 3) -> str:
        if key not in stats:
            return "–"
        return f"{stats[key]['mean']:.{digits}f} ± {stats[key]['sd']:.{digits}f}"

    lines = ["| model | NPMI | NPMI top-25 | NPMI (score_npmi) | held-out NPMI | diversity top-10 | top-25 | fit s |",
             "|---|---|---|---|---|---|---|---|"]
    for label, stats in summary.items():
        n = next(iter(stats.values()))["n"] if stats else 0
        lines.append(f"| {label} (n={n}) | {cell(stats, 'npmi')} | {cell(stats, 'npmi25')} | "
                     f"{cell(stats, 'npmi_shared')} | "
                     f"{cell(stats, 'npmi_heldout')} | {cell(stats, 'diversity10')} | {cell(stats, 'diversity25')} | "
                     f"{cell(stats, 'fit_seconds', 1)} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--topics", type=int, default=50)
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated; every model is fitted once per seed")
    parser.add_argument("--models", default="lda,combined,zeroshot,clustering,etm,ctm-combined,ctm-zeroshot,"
                        "tomotopy-lda,bertopic,turftopic-keynmf,turftopic-gmm,turftopic-s3")
    parser.add_argument("--heldout", type=int, default=0, help="score also against the next M descriptions")
    parser.add_argument("--option", action="append", default=[], metavar="MODEL.KEY=VALUE",
                        help="override one setting (value parsed as JSON); polytopic models and peers take it as "
                             "a constructor argument (tomotopy-lda also: iterations, workers); repeatable")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--resume", action="store_true", help="keep the fits in --out, skip their model x seed")
    parser.add_argument("--export-vectors", type=Path, metavar="FILE.npy",
                        help="write the documents' vectors (and FILE.json: encoder, texts' and vocabulary's hashes) "
                             "and stop")
    parser.add_argument("--vectors", type=Path, metavar="FILE.npy",
                        help="the documents' vectors from --export-vectors instead of the encoder (not with turftopic)")
    parser.add_argument("--fit-only", action="store_true",
                        help="fit and keep the topics unscored (no gensim, no shared/tools); see --score-fits")
    parser.add_argument("--score-fits", type=Path, nargs="+", metavar="FITS.json",
                        help="score the rows of these --fit-only outputs and merge them into --out; fits nothing")
    parser.add_argument("--device-note", default="", help="appended to each row's device (e.g. '3 fits at once')")
    args = parser.parse_args()

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in MODEL_TABLE and m not in PEERS]
    if unknown:
        parser.error(f"unknown models {unknown}; polytopic: {sorted(MODEL_TABLE)}, peers: {sorted(PEERS)}")
    if args.vectors and any(m.startswith("turftopic-") for m in models) and not args.score_fits:
        parser.error("turftopic models embed the vocabulary's words: they need the encoder, not --vectors")
    if args.fit_only and args.score_fits:
        parser.error("--fit-only and --score-fits exclude each other")
    seeds = [int(s) for s in args.seeds.split(",")]
    options = parse_options(args.option, models)
    fits_in = [json.loads(path.read_text(encoding="utf-8")) for path in args.score_fits or []]
    if fits_in:  # the models and seeds are the fit files'
        models = list(dict.fromkeys(m for fits in fits_in for m in fits["settings"]["models"]))
        seeds = sorted({s for fits in fits_in for s in fits["settings"]["seeds"]})
    out = args.out or RESULTS / f"quality-{args.docs}docs-K{args.topics}{'-fits' if args.fit_only else ''}.json"
    logging.getLogger("polytopic.metrics").setLevel(logging.ERROR)  # missing/undefined words are counted instead

    corpus = debian_english(args.docs)
    heldout = None
    if args.heldout and not args.fit_only:
        heldout = debian_english(args.docs + args.heldout).subset(np.arange(args.docs, args.docs + args.heldout))
        if len(heldout) < args.heldout:
            raise SystemExit(f"only {len(heldout)} held-out descriptions after the first {args.docs}")
    vocabulary = corpus.vocabulary("en")
    encoder = None
    if args.vectors:
        embeddings, encoder_name = load_vectors(args.vectors, corpus.texts("en"), vocabulary)
    else:
        encoder = get_encoder(progress=False)
        encoder_name = encoder.name
        embeddings = encoder.encode(corpus.texts("en"))  # from the cache after a first run
        if any(m.startswith("turftopic-") for m in models):
            encoder.encode(list(vocabulary.words))  # KeyNMF and S3 embed the words: cached outside the fits
    if args.export_vectors:
        export_vectors(args.export_vectors, corpus.texts("en"), vocabulary, embeddings, encoder_name)
        print(f"{args.export_vectors}: {embeddings.shape} from {encoder_name}, vocabulary sha256 "
              f"{sha256(vocabulary.words)}")
        return 0
    data = Data(corpus, vocabulary, embeddings, encoder)
    scorer = None
    if not args.fit_only:
        scratch = Path(tempfile.mkdtemp(prefix="bench_quality-"))  # the reference files score_npmi.py reads
        atexit.register(shutil.rmtree, scratch, ignore_errors=True)
        scorer = Scorer(data, heldout, scratch)

    settings = {"docs": args.docs, "heldout": 0 if args.fit_only else args.heldout, "topics": args.topics,
                "seeds": seeds, "models": models,
                "vocabulary": {"size": len(vocabulary), "requested_size": DEFAULT_VOCABULARY_SIZE, "min_df": 2,
                               "stopwords": stopword_list(vocabulary.tokenizer),
                               "min_length": vocabulary.tokenizer.min_length},
                "vocabulary_sha256": sha256(vocabulary.words),
                "encoder": encoder_name, "embedding_dimension": int(embeddings.shape[1]),
                "data": "first N English descriptions of shared/data/debian/descriptions-dev.jsonl.gz",
                "scoring": "none (--fit-only): score with --score-fits" if args.fit_only
                else scoring_description(args, vocabulary, scorer.settings)}
    result = {"settings": settings, "versions": versions(), "fits": [], "failures": []}
    if (args.resume or fits_in) and out.is_file():
        previous = json.loads(out.read_text(encoding="utf-8"))
        check_same_run(previous["settings"], settings, out)
        result["fits"] = previous["fits"]
        result["failures"] = previous.get("failures", []) if fits_in else []
        result["fitted_with"] = previous.get("fitted_with", {})
        settings["seeds"] = sorted(set(previous["settings"]["seeds"]) | set(seeds))
        settings["models"] = list(dict.fromkeys(previous["settings"]["models"] + models))
    done = {(row["label"], row["seed"]) for row in result["fits"]}

    print(f"{len(corpus)} documents, {len(vocabulary)} words, {embeddings.shape[1]}-d vectors from {encoder_name}"
          + (f", {len(heldout)} held out" if heldout is not None else ""), flush=True)
    if fits_in:
        for path, fits in zip(args.score_fits, fits_in):
            check_same_run(fits["settings"], settings, path, heldout=False)
            result.setdefault("fitted_with", {})[path.name] = fits["versions"]
            new = [row for row in fits["fits"] if (row["label"], row["seed"]) not in done]
            known = done | {(f["label"], f["seed"]) for f in result["failures"]}
            result["failures"] += [f for f in fits["failures"] if (f["label"], f["seed"]) not in known]
            for row in new:
                result["fits"].append(scored(row, scorer))
                done.add((row["label"], row["seed"]))
                write_atomically(out, result)
            print(f"{path}: {len(new)} fits scored, {len(fits['fits']) - len(new)} already in {out}", flush=True)
        write_atomically(out, result)
        print(f"\n{out}\n")
        print(table(result["summary"]))
        return 0

    device = device_name() + (f" ({args.device_note})" if args.device_note else "")
    missing = {}
    for name in models:
        label = label_of(name, options[name])
        for seed in seeds:
            if (label, seed) in done:
                continue
            try:
                row = fit_row(name, label, seed, options[name], device,
                              fit(name, data, args.topics, seed, options[name]))
            except ImportError as err:
                missing[name] = str(err)
                print(f"{label}: skipped, its library is not installed ({err})", file=sys.stderr, flush=True)
                break
            except Exception as err:  # noqa: BLE001 -- one broken model must not stop the others
                traceback.print_exc()
                result["failures"].append({"label": label, "seed": seed, "error": f"{type(err).__name__}: {err}"})
                print(f"{label} seed {seed}: FAILED ({type(err).__name__}: {err})", file=sys.stderr, flush=True)
                continue
            if scorer is not None:
                row = scored(row, scorer)
            result["fits"].append(row)
            write_atomically(out, result)
            shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()
                     if k not in ("topics", "options", "model", "label", "seed", "params")}
            print(f"{label} seed {seed}: {json.dumps(shown)}", flush=True)
    settings["skipped"] = missing
    write_atomically(out, result)
    print(f"\n{out}\n")
    print(table(result["summary"]))
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())

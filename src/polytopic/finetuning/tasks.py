"""What encoder fine-tuning learns from: each task's examples and its objective.

Mueller & Dredze (2021) adapt a sentence encoder to a topic-modelling corpus before the
topic model reads it (§3):

- ``topics``: classify each document's LDA topic label (§3.2, labels as in §4:
  :func:`~polytopic.models.topic_labels.choose_topics`);
- ``labels``: classify a label the corpus already has (document classification, §3.1,
  where the paper used MLDoc's news categories; a Debian ``section`` plays that role);
- ``pairs``: bring aligned translations together (the offline stand-in for the paper's
  NLI fine-tuning, §3.1: no NLI data ships offline, and aligned descriptions are
  sentence pairs of known meaning, as NLI entailment pairs are);
- ``mlm``: continued masked-language-model pre-training on the corpus's texts (§3.3).

Classification (:func:`classification_objective`) puts a linear layer and a softmax on
the pooled sentence embedding and minimises the cross-entropy of the label, as the
paper's §4 describes ("a fully-connected layer followed by a softmax"). The authors'
scripts (``sentence-transformers/examples/training/topics/training_topic.py`` and
``training_mldoc.py`` in aaronmueller/contextualized-topic-models) feed
sentence-transformers' ``SoftmaxLoss`` a *pair* per document instead — its first two
sentences, or its one sentence twice — and classify the concatenation (u, v, |u − v|) of
their mean-pooled embeddings; here the whole document is one input, as it is when the
topic model encodes it. Pairs train with sentence-transformers' multiple-negatives ranking
loss in both directions (each side retrieves its translation among the batch's other
side; Henderson et al. 2017's in-batch negatives), in its GradCache form. MLM uses
transformers' masked-LM head on the base's transformer and its 15 % masking collator.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.nn import functional as F

from polytopic.corpus import Corpus
from polytopic.errors import CorpusError, ParameterError
from polytopic.finetuning.loop import Objective
from polytopic.models.tcctm import NO_TOPIC, LabelClassifier
from polytopic.models.topic_labels import choose_topics, field_labels

logger = logging.getLogger(__name__)

TASKS = ("topics", "labels", "pairs", "mlm")
#: Share of tokens the masked-LM objective masks (Devlin et al. 2019, §3.1; transformers' default).
MLM_PROBABILITY = 0.15


# -- examples ----------------------------------------------------------------------------------
@dataclass
class LabelledTexts:
    """Texts to classify, their classes (indices into ``names``) and where the labels came from."""

    texts: list[str]
    labels: np.ndarray
    names: list[str]
    source: dict = field(default_factory=dict)


def topic_labels(corpus: Corpus, language: str | None, grid: Sequence[int], seed: int, progress: bool,
                 options: dict) -> LabelledTexts:
    """The texts of ``language`` labelled by LDA (:func:`~polytopic.models.topic_labels.choose_topics`,
    its ``options``); labels no text got are left out of the classes."""
    choice = choose_topics(corpus, grid, language=language, seed=seed, progress=progress, **options)
    names = [f"topic {k}" for k in range(choice.n_topics)] + [NO_TOPIC]
    present, labels = np.unique(choice.labels, return_inverse=True)
    texts = corpus.texts(choice.settings["language"])
    return _checked(LabelledTexts(texts, labels.astype(np.int64), [names[k] for k in present], choice.record()))


def corpus_labels(corpus: Corpus, label_field: str, language: str | None) -> LabelledTexts:
    """The texts of ``language`` with their ``label_field`` values as classes
    (:func:`~polytopic.models.topic_labels.field_labels`: a missing label is a ``ParameterError``)."""
    labels, names = field_labels(corpus, label_field, language)
    source = {"method": "field", "field": label_field, "language": language or corpus.primary_language}
    return _checked(LabelledTexts(corpus.texts(language), labels, names, source))


def _checked(data: LabelledTexts) -> LabelledTexts:
    if len(data.names) < 2:
        raise ParameterError(f"every text has the label {data.names[0]!r}: classification needs two classes or more")
    return data


def translation_pairs(corpus: Corpus, languages: Sequence[str] | None) -> tuple[list[tuple[str, str]], dict]:
    """The (text, translation) pairs of the items having both languages, for every two of
    ``languages`` (default: all of the corpus's), and a record of how many per pair.

    Items lacking one side of a pair are skipped, with a warning giving their count.

    Raises
    ------
    ParameterError
        Fewer than two languages, or one named twice.
    CorpusError
        A language the corpus has no text in, or no item with both sides of any pair.
    """
    languages = list(corpus.languages if languages is None else languages)
    if len(languages) < 2 or len(set(languages)) != len(languages):
        raise ParameterError(f"pairs need two or more distinct languages, got {languages}")
    pairs, counts = [], {}
    for a, b in itertools.combinations(languages, 2):
        items = corpus.aligned([a, b])
        lacking = int(np.union1d(corpus.indices(a), corpus.indices(b)).size - items.size)
        if lacking:
            logger.warning("%d items have a text in only one of %s and %s: skipped", lacking, a, b)
        if items.size:
            both = corpus.subset(items)
            pairs += list(zip(both.texts(a), both.texts(b)))
        counts[f"{a}-{b}"] = int(items.size)
    if not pairs:
        raise CorpusError(f"no item has texts in two of {languages}: pairs need aligned items")
    return pairs, {"languages": languages, "pairs": counts}


def mlm_texts(corpus: Corpus, language: str | None) -> list[str]:
    """The texts of ``language``, or of every language of the corpus."""
    languages = [language] if language else corpus.languages
    return [text for lang in languages for text in corpus.texts(lang)]


# -- objectives --------------------------------------------------------------------------------
def model_inputs(model, texts: list[str], prompt: str) -> dict:
    """The sentence-transformers ``model``'s inputs for ``texts``, each prefixed by
    ``prompt``, on the model's device."""
    features = model.preprocess([prompt + text for text in texts])
    return {k: v.to(model.device) if isinstance(v, torch.Tensor) else v for k, v in features.items()}


def classification_objective(model, data: LabelledTexts, prompt: str, generator: torch.Generator) -> Objective:
    """Cross-entropy of a linear softmax classifier on the sentence embedding (§3.1–3.2, §4).

    The classifier starts uniform in ±1/√dimension, drawn from ``generator``; it is
    thrown away after training.
    """
    head = LabelClassifier(model.get_embedding_dimension(), len(data.names), generator).to(model.device)
    labels = torch.as_tensor(data.labels, device=model.device)

    def loss(rows: np.ndarray) -> torch.Tensor:
        embeddings = model(model_inputs(model, [data.texts[i] for i in rows], prompt))["sentence_embedding"]
        return F.cross_entropy(head(embeddings), labels[torch.as_tensor(rows, device=model.device)])

    return Objective(len(data.texts), [model, head], loss)


def pairs_objective(model, pairs: list[tuple[str, str]], prompt: str, mini_batch: int) -> Objective:
    """In-batch-negatives ranking loss over translation pairs, both directions: each
    text's translation must score above the batch's other translations (scale 20 on
    cosine, sentence-transformers' default).

    The batch is the set of negatives, so it cannot be cut into independent parts; the
    loss is computed by GradCache (Gao et al. 2021: embeddings without gradients first,
    then ``mini_batch`` texts at a time with the cached gradients), which bounds the
    memory by ``mini_batch`` rather than the batch: 64 pairs of 512-token texts through
    multilingual-e5-small at once need over 20 GB.
    """
    from sentence_transformers.sentence_transformer.losses import CachedMultipleNegativesRankingLoss

    ranking = CachedMultipleNegativesRankingLoss(model, mini_batch_size=mini_batch,
                                                 directions=("query_to_doc", "doc_to_query"),
                                                 partition_mode="per_direction")

    def loss(rows: np.ndarray) -> torch.Tensor:
        return ranking([model_inputs(model, [pairs[i][side] for i in rows], prompt) for side in (0, 1)], None)

    return Objective(len(pairs), [model], loss, divisible=False)


def mlm_objective(masked_lm, tokenizer, texts: list[str], window: int, prompt: str) -> Objective:
    """The masked-LM loss of ``masked_lm`` (a transformers ``*ForMaskedLM``) on ``texts``
    truncated to ``window`` word pieces, :data:`MLM_PROBABILITY` of the tokens masked
    afresh in every batch (80 % [MASK], 10 % random, 10 % kept; Devlin et al. 2019, §3.1).

    Where the model's head is a ``cls`` or ``lm_head`` module applied per position (BERT,
    RoBERTa, XLM-R, MPNet), it reads the masked positions only: the same loss as the
    model's own, without vocabulary-sized logits for every token (250k of them per token
    for multilingual-e5-small).
    """
    from transformers import DataCollatorForLanguageModeling

    ids = tokenizer([prompt + text for text in texts], truncation=True, max_length=window)["input_ids"]
    collate = DataCollatorForLanguageModeling(tokenizer, mlm_probability=MLM_PROBABILITY)
    device = masked_lm.device
    head = getattr(masked_lm, "cls", None) or getattr(masked_lm, "lm_head", None)

    def loss(rows: np.ndarray) -> torch.Tensor:
        batch = {k: v.to(device) for k, v in collate([{"input_ids": ids[i]} for i in rows]).items()}
        labels = batch.pop("labels")
        masked = labels != -100
        if not masked.any():  # nothing masked: no loss, rather than NaN
            return torch.zeros((), device=device, requires_grad=True)
        if head is None:
            return masked_lm(**batch, labels=labels).loss
        hidden = masked_lm.base_model(**batch).last_hidden_state
        return F.cross_entropy(head(hidden[masked]), labels[masked])

    return Objective(len(texts), [masked_lm], loss)

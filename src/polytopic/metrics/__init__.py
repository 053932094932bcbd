"""The evaluation suite: plain functions over topic words, arrays and a reference corpus."""

from polytopic.metrics.coherence import MEASURES, CoherenceScores, coherence
from polytopic.metrics.cooccurrence import CooccurrenceCounts, ReferenceTexts, reference_texts

__all__ = [
    "MEASURES",
    "CoherenceScores",
    "CooccurrenceCounts",
    "ReferenceTexts",
    "coherence",
    "reference_texts",
]

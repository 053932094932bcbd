"""The evaluation of topics and runs, above the metrics suite (:mod:`polytopic.metrics`).

- :mod:`~polytopic.evaluation.scores`: :func:`score_topics`, the one scorer of a list of
  topics against a reference corpus (coherence, diversity top-10 and top-25, inverted RBO,
  with their settings);
- :mod:`~polytopic.evaluation.references`: :class:`ReferenceCache`, each reference
  corpus counted once;
- :mod:`~polytopic.evaluation.evaluate`: :func:`evaluate_run`, a run's ``metrics.json``;
- :mod:`~polytopic.evaluation.aligned`: :func:`evaluate_aligned`, do the views of one item
  (languages, images) get the same topics;
- :mod:`~polytopic.evaluation.tables`: rows of several runs' metrics side by side;
- :mod:`~polytopic.evaluation.figures`: the confusion matrices and the sweep figure.
"""

from polytopic.evaluation.aligned import evaluate_aligned, item_categories, pair_scores
from polytopic.evaluation.evaluate import evaluate_run
from polytopic.evaluation.figures import confusion_figures
from polytopic.evaluation.references import ReferenceCache
from polytopic.evaluation.scores import COHERENCE_TOP_N, DIVERSITY_TOP_N, score_topics
from polytopic.evaluation.tables import comparison_rows, format_table

__all__ = [
    "COHERENCE_TOP_N",
    "DIVERSITY_TOP_N",
    "ReferenceCache",
    "comparison_rows",
    "confusion_figures",
    "evaluate_aligned",
    "evaluate_run",
    "format_table",
    "item_categories",
    "pair_scores",
    "score_topics",
]

"""How long each stage of a fit took, how fast it went and how much memory the process held:
what ``run.json`` records under ``stages`` so that a run on a large corpus says where its
time and memory went (reading, the vocabulary and bags of words, encoding, training,
writing).

Memory is the process's peak resident set size so far (``getrusage``'s ``ru_maxrss``)
when the stage ends: it only rises, so a stage's own cost is the rise over the stage
before it. Memory-mapped arrays count once their pages are touched.
"""

from __future__ import annotations

import contextlib
import resource
import sys
import time
from dataclasses import dataclass


def peak_rss_mb() -> float:
    """The process's peak resident set size so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere


@dataclass
class Stage:
    """One stage: wall seconds, the items it handled (documents, vectors) and the peak
    RSS when it ended. A stage entered again (one per view) adds to its time and items."""

    seconds: float = 0.0
    items: int | None = None
    peak_rss_mb: float = 0.0

    def as_dict(self) -> dict:
        record = {"seconds": round(self.seconds, 3), "peak_rss_mb": round(self.peak_rss_mb, 1)}
        if self.items is not None:
            record["items"] = self.items
            record["items_per_second"] = round(self.items / self.seconds, 1) if self.seconds > 0 else None
        return record


class Stages:
    """Stages in the order they first ran.

    Examples
    --------
    >>> stages = Stages()
    >>> with stages.stage("read") as read:
    ...     read.items = 3
    >>> list(stages.as_dict())
    ['read']
    """

    def __init__(self) -> None:
        self.stages: dict[str, Stage] = {}

    @contextlib.contextmanager
    def stage(self, name: str, items: int | None = None):
        """Time the block as stage ``name``; ``items`` (or the yielded stage's ``items``,
        set inside the block) is what it handled."""
        record = self.stages.setdefault(name, Stage())
        before = record.items
        record.items = None
        started = time.perf_counter()
        try:
            yield record
        finally:
            record.seconds += time.perf_counter() - started
            handled = items if items is not None else record.items
            record.items = before if handled is None else (before or 0) + handled
            record.peak_rss_mb = peak_rss_mb()

    def update(self, other: dict[str, Stage]) -> None:
        """Append ``other``'s stages (a model's fit stages) after these."""
        self.stages.update(other)

    def as_dict(self) -> dict[str, dict]:
        return {name: stage.as_dict() for name, stage in self.stages.items()}

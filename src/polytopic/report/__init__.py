"""The HTML report: :mod:`~polytopic.report.data` gathers what a run shows (plain data),
:mod:`~polytopic.report.map` lays out its documents, :mod:`~polytopic.report.figures`
draws the plotly figures and :mod:`~polytopic.report.html` renders one self-contained
page (``templates/report.html.j2``) of one run or several side by side."""

from polytopic.report.data import MAP_DOCUMENTS, RunReport, gather
from polytopic.report.html import render, write

__all__ = ["MAP_DOCUMENTS", "RunReport", "gather", "render", "write"]

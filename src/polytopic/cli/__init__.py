"""The ``polytopic`` command line: :mod:`~polytopic.cli.main` holds the group, one module
per command (``fit``, ``topics``, ``transform``, ``demo``, ``evaluate``, ``compare``,
``sweep``, ``report``, ``finetune``), and :mod:`~polytopic.cli.options` what they share.
What a run directory holds is :mod:`polytopic.runs`'s business.
"""

from polytopic.cli.main import main

__all__ = ["main"]

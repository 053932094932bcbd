"""Fine-tuning a sentence encoder for topic modelling (Mueller & Dredze 2021, §3):
:mod:`~polytopic.finetuning.finetune` runs a task into a sentence-transformers folder,
:mod:`~polytopic.finetuning.tasks` holds the tasks' objectives and
:mod:`~polytopic.finetuning.loop` the seeded training loop."""

from polytopic.finetuning.finetune import RECORD_FILE, finetune, resolve_base

__all__ = ["RECORD_FILE", "finetune", "resolve_base"]

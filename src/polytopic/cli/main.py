"""The ``polytopic`` group: every command of the package, run with the library's errors
turned into one line and SIGTERM handled like Ctrl-C.

Exit status: 0 on success, 1 when the library refuses (one line ``error: ...`` on standard
error), 2 on a usage error (click's). Start-up stays light: corpora readers, models and
torch are imported by the commands that need them, so ``polytopic --version`` and
``polytopic topics RUN`` answer at once.
"""

from __future__ import annotations

import contextlib
import signal
import threading

import click

from polytopic.cli.compare import compare
from polytopic.cli.demo import demo
from polytopic.cli.encode import encode
from polytopic.cli.evaluate import evaluate
from polytopic.cli.finetune import finetune
from polytopic.cli.fit import fit
from polytopic.cli.options import quiet_option
from polytopic.cli.report import report
from polytopic.cli.sweep import sweep
from polytopic.cli.topics import topics
from polytopic.cli.transform import transform
from polytopic.errors import PolytopicError
from polytopic.version import __version__


# -- errors and signals --------------------------------------------------------------------
class _PolytopicGroup(click.Group):
    """Runs each command with SIGTERM handled like Ctrl-C, and turns the library's own
    errors into one line on standard error and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            with _sigterm_exits():
                return super().invoke(ctx)
        except PolytopicError as err:
            click.echo(f"error: {err}", err=True)
            ctx.exit(1)


@contextlib.contextmanager
def _sigterm_exits():
    """While the block runs, SIGTERM (a job scheduler's stop, ``kill``) raises
    ``SystemExit(143)`` as Ctrl-C raises ``KeyboardInterrupt``, so that cleanups run and a
    half-written run directory is removed. The previous handler is restored afterwards.
    Outside the main thread, where Python cannot install handlers, nothing changes."""
    in_main = threading.current_thread() is threading.main_thread()
    received: list[int] = []

    def exit_on_signal(signum: int, _frame) -> None:
        received.append(signum)
        raise SystemExit(128 + signum)  # the status a shell reports for a death by signal

    previous = signal.signal(signal.SIGTERM, exit_on_signal) if in_main else None
    try:
        yield
    except BaseException:
        # Python wraps an exception raised in some places (an import's class body) into
        # another: whatever surfaces, a stop by signal still exits with 128 + its number.
        if received:
            raise SystemExit(128 + received[0]) from None
        raise
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


# -- commands ------------------------------------------------------------------------------
@click.group(cls=_PolytopicGroup)
@click.version_option(__version__, prog_name="polytopic")
@quiet_option
def main():
    """Topic models on pretrained embeddings: fit, inspect, transform, evaluate."""


for command in (fit, encode, topics, transform, demo, evaluate, compare, sweep, report, finetune):
    main.add_command(command)

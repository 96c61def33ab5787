"""Progress bars for the library's long work: the library reports ``(stage, done, total)``
through a plain callback (it never imports rich); :func:`progress_bar` turns the callback into
a bar on stderr, silent when stderr is not a terminal
(:func:`gis_registry.cli._common.progress`)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gis_registry.cli._common import echo

LABEL = 28  # cells of the label before the bar, so that the bar does not jump between stages


class Bar:
    """A ``(stage, done, total)`` callback drawing one bar labelled ``what: stage``; it appears
    on the first call only, so work that turns out quick (a network loaded from its snapshot,
    not built) draws nothing."""

    def __init__(self, what: str):
        self.what = what
        self._shown: Any = None
        self._task: Any = None
        self._tty = sys.stdout.isatty()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self._shown is None:
            from gis_registry.cli._common import progress

            self._shown = progress()
            self._shown.start()
            self._task = self._shown.add_task(self.what, total=None)
        label = f"{self.what}: {stage}".ljust(LABEL)
        self._shown.update(self._task, description=label, completed=done, total=total)

    def echo(self, line: str) -> None:
        """One line of output while the bar runs: above the bar on a terminal (the bar's
        console redraws under it), else to stdout as :func:`~gis_registry.cli._common.echo`
        writes it (a pipe or a file gets the lines, never the bar)."""
        if self._shown is not None and self._tty and self._shown.console.is_terminal:
            self._shown.console.print(line, markup=False, highlight=False, emoji=False)
        else:
            echo(line)

    def close(self) -> None:
        """Stop drawing; the finished bar stays on the screen (what was done, how long)."""
        if self._shown is not None:
            self._shown.stop()


@contextmanager
def progress_bar(what: str) -> Iterator[Bar]:
    """A :class:`Bar` for the length of the block."""
    bar = Bar(what)
    try:
        yield bar
    finally:
        bar.close()

"""A progress bar for the long, silent parts of a benchmark (a demo load at scale 100, a
network build): on stderr, and only on a terminal, so a log or CI output stays as it was."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def bar(what: str) -> Iterator[Callable[[str, int, int], None]]:
    """A ``progress(stage, done, total)`` callback for the library, drawing ``what: stage``;
    the bar appears on the first call and stays when the work ends."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    shown: Any = None
    task: Any = None

    def update(stage: str, done: int, total: int) -> None:
        nonlocal shown, task
        if shown is None:
            shown = Progress(
                TextColumn("{task.description:<24}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                disable=not console.is_terminal,
            )
            shown.start()
            task = shown.add_task(what, total=None)
        shown.update(task, description=f"{what}: {stage}", completed=done, total=total)

    try:
        yield update
    finally:
        if shown is not None:
            shown.stop()

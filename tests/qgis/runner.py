"""PyQGIS scripts run headless in Debian's Python, their JSON answer read back.

Debian's ``python3-qgis`` (QGIS 3.22, installed by ``scripts/install-system.sh``) is built for
the system interpreter (``/usr/bin/python3``, 3.11), not for the project's virtualenv, so the
tests never import ``qgis``: they run a script of ``tests/qgis/pyqgis/`` in a subprocess of
that interpreter, give it a JSON payload on stdin and read its JSON answer from stdout. One
subprocess checks many layers (QGIS starts in about a second; once per test module, not once
per layer).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

SYSTEM_PYTHON = Path("/usr/bin/python3")
SCRIPTS = Path(__file__).parent / "pyqgis"
# The line of a script's stdout that carries its answer (QGIS and Qt may print on stdout too).
RESULT_MARK = "PYQGIS-RESULT "
# Debian's Python ignores the PYTHON* variables (-E: a PYTHONPATH of the virtualenv would shadow
# Debian's PyQt5 with builds for another Python) and the user's site-packages (-s), and writes
# no __pycache__ into the checkout (-B).
PYTHON_FLAGS = ("-E", "-s", "-B")


class PyQgisError(RuntimeError):
    """A PyQGIS script failed, timed out or answered something other than JSON."""


@functools.cache
def qgis_missing() -> str | None:
    """Why PyQGIS cannot run here (the interpreter or ``python3-qgis`` is absent), else None."""
    if not SYSTEM_PYTHON.exists():
        return f"{SYSTEM_PYTHON} is missing (Debian's python3 runs PyQGIS)"
    done = subprocess.run(
        [str(SYSTEM_PYTHON), *PYTHON_FLAGS, "-c", "import qgis.core"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=_environment(tempfile.gettempdir()),
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no error output"])[-1]
        return (
            f"{SYSTEM_PYTHON} cannot import qgis.core ({last}): install Debian's python3-qgis "
            "(`make system` / scripts/install-system.sh)"
        )
    return None


def _environment(scratch: str) -> dict[str, str]:
    """The script's environment: headless Qt, and QGIS's settings, caches and runtime files in
    ``scratch`` (never the user's QGIS profile; Qt wants a private runtime directory)."""
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_RUNTIME_DIR": scratch,
        "XDG_CONFIG_HOME": scratch,
        "XDG_DATA_HOME": scratch,
        "XDG_CACHE_HOME": scratch,
    }


def run_pyqgis(script: str, payload: dict[str, Any], *, timeout_s: float = 120) -> Any:
    """Run ``tests/qgis/pyqgis/<script>.py`` in Debian's Python; return its JSON answer.

    Parameters
    ----------
    script
        Name of the script (without ``.py``) in ``tests/qgis/pyqgis``.
    payload
        What the script reads from stdin (JSON).
    timeout_s
        The script is killed after this long and :class:`PyQgisError` raised.

    Raises
    ------
    PyQgisError
        The script exited with an error, timed out or printed no answer; the message holds the
        end of its stderr.
    """
    path = SCRIPTS / f"{script}.py"
    scratch = tempfile.mkdtemp(prefix="pyqgis-")  # mode 0700, as Qt wants its runtime dir
    try:
        done = subprocess.run(
            [str(SYSTEM_PYTHON), *PYTHON_FLAGS, str(path)],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=timeout_s,
            check=False,
            env=_environment(scratch),
        )
    except subprocess.TimeoutExpired as exc:
        raise PyQgisError(f"{script}.py did not finish in {timeout_s:.0f} s") from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    answers = [line for line in done.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if done.returncode != 0 or not answers:
        raise PyQgisError(
            f"{script}.py exited with {done.returncode} and "
            f"{'an answer' if answers else 'no answer'}:\n{done.stderr[-4000:]}"
        )
    return json.loads(answers[-1][len(RESULT_MARK) :])

"""Start-up shared by the PyQGIS scripts (run by Debian's /usr/bin/python3, never by pytest).

A script calls :func:`main` with its work: the payload is read from stdin as JSON, QGIS is
started headless once, and the work's answer is printed as one JSON line after the mark the
runner (``tests/qgis/runner.py``) looks for. QGIS's message log is kept in :data:`LOG`: it is
where QGIS says why a layer is invalid (``QgsMapLayer.error()`` of an invalid layer crashes
QGIS 3.22).
"""

from __future__ import annotations

import faulthandler
import json
import os
import sys
from collections.abc import Callable
from typing import Any

RESULT_MARK = "PYQGIS-RESULT "  # as tests/qgis/runner.py reads it
LOG: list[str] = []  # QGIS's message log, "tag: message", in order


def messages_since(start: int) -> str:
    """What QGIS logged since ``LOG`` held ``start`` messages, one message a line."""
    from qgis.core import QgsApplication

    QgsApplication.processEvents()  # messages of the providers' threads arrive as events
    return "\n".join(m.strip() for m in LOG[start:])


def main(work: Callable[[Any], Any]) -> None:
    """Read the payload, start QGIS, print ``work(payload)`` as JSON; exit 1 on an error."""
    faulthandler.enable()  # a crash of QGIS names the script's line on stderr
    payload = json.load(sys.stdin)
    from qgis.core import QgsApplication

    app = QgsApplication([], False)  # no GUI: offscreen rendering needs no display
    app.initQgis()
    app.messageLog().messageReceived.connect(
        lambda message, tag, _level: LOG.append(f"{tag}: {message}")
    )
    answer = work(payload)
    # ASCII JSON (Thai names escaped): whatever the locale's encoding of stdout
    sys.stdout.write(RESULT_MARK + json.dumps(answer) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    # The process is thrown away: skip exitQgis and the interpreter's teardown of Qt objects,
    # which cost time and, with layers still alive, can crash after the answer is out.
    os._exit(0)

"""Chainage (ระยะ กม.): where an asset lies along a registered road, as engineers write it.

``กม. 688+210`` is 688 km and 210 m from the road's origin; the registry stores metres
(688210.0) in ``roads.chainage_start_m`` / ``chainage_end_m`` and ``bridges.chainage_m``.
"""

from __future__ import annotations

import math
import re
from typing import Any

_WRITTEN = re.compile(r"^\s*(?:กม\.?|km\.?)?\s*(\d+)\s*\+\s*(\d{1,3}(?:\.\d+)?)\s*$", re.IGNORECASE)
FORMS = "กม. 688+210, 688+210 or metres (688210)"


def format_chainage(metres: float | None) -> str:
    """``กม. 688+210`` for 688210 metres (rounded to the metre); empty for a missing value.

    Parameters
    ----------
    metres
        Distance along the road from its origin, in metres.
    """
    if metres is None or not math.isfinite(metres):
        return ""
    km, m = divmod(int(round(metres)), 1000)
    return f"กม. {km}+{m:03d}"


def parse_chainage(value: Any) -> float:
    """Metres from a written chainage (``กม. 688+210``, ``กม.688+210``, ``km 688+210``,
    ``688+210``) or a number of metres.

    Raises
    ------
    ValueError
        The value is neither; the message lists the accepted forms.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value)
    written = _WRITTEN.match(text)
    if written:
        return int(written[1]) * 1000 + float(written[2])
    try:
        return float(text.replace(",", ""))
    except ValueError:
        raise ValueError(f"'{value}' is not a chainage ({FORMS})") from None


def on_road(code: str | None, metres: float | None) -> str:
    """Where an asset is, as a sign would say: ``1 กม. 612+300`` (code alone without chainage)."""
    return " ".join(part for part in (code or "", format_chainage(metres)) if part)

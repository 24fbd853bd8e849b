"""Parameter counts as companies write them: "70B", "1.2T", "400000000000".

The intake stores a whole number; people type and read the short form, so the
form parses it and pages show it (`{{ case.parameter_count|parameters }}`).
"""

import re
from decimal import Decimal, InvalidOperation

UNITS = {"K": 10**3, "M": 10**6, "B": 10**9, "G": 10**9, "T": 10**12}
# Shown largest first; "G" is read but never written.
SHOWN_UNITS = (("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3))
NUMBER = re.compile(r"^(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[KMBGT])?$", re.IGNORECASE)


def parse_parameter_count(text: str) -> int:
    """Return the whole number a typed parameter count means; ValueError if it means none."""
    cleaned = re.sub(r"[\s,_]", "", text or "")
    match = NUMBER.match(cleaned)
    if not match:
        raise ValueError(text)
    try:
        number = Decimal(match["number"])
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only decimals
        raise ValueError(text) from exc
    value = number * UNITS[match["unit"].upper()] if match["unit"] else number
    if value != value.to_integral_value():
        raise ValueError(text)
    return int(value)


def format_parameter_count(value: int | None) -> str:
    """Return a count as people write it (400B, 1.2T), or grouped digits when that is not exact."""
    if value is None:
        return ""
    unit, size = next(((u, s) for u, s in SHOWN_UNITS if value >= s), ("", 1))
    short = Decimal(value) / size
    # Three decimals at most, and exact: what is shown reads back to the same number.
    if unit and short == short.quantize(Decimal("0.001")):
        return f"{short.normalize():f}{unit}"
    return f"{value:,}"

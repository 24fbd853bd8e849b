"""Security events as structured JSON lines, with no secrets and no log injection.

Every event is one JSON object on one line. Values are JSON-encoded with
``ensure_ascii``, so a newline, a control character or a Unicode line separator
typed into a form arrives in the log as an escape, never as a forged line.
Fields whose names suggest a secret are dropped before they reach the log.
"""

import datetime as dt
import json
import logging
from typing import Any

from core.clients import client_address

SECURITY_LOGGER = "caisi.security"
# Field names never logged, whatever the caller passes.
SECRET_WORDS = ("password", "token", "secret", "credential", "otp")
MAX_VALUE_CHARS = 200


def _clean(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


def _client_ip(request) -> str | None:
    return client_address(request) if request is not None else None


def security_event(event: str, *, request=None, user=None, **fields: Any) -> None:
    """Log one security event; `fields` must never carry a secret's value."""
    record: dict[str, Any] = {"event": event}
    if request is not None:
        record["ip"] = _client_ip(request)
        record["method"] = request.method
        record["path"] = request.path
        if user is None:
            user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        record["user_id"] = user.pk
        record["user"] = user.email
    for name, value in fields.items():
        if any(word in name.lower() for word in SECRET_WORDS):
            continue
        record[name] = _clean(value)
    logging.getLogger(SECURITY_LOGGER).info(event, extra={"security": record})


class JsonLinesFormatter(logging.Formatter):
    """Format a record as one JSON object; security events carry their fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
        }
        fields = getattr(record, "security", None)
        if isinstance(fields, dict):
            payload.update(fields)
        else:
            payload["message"] = record.getMessage()
        return json.dumps(payload, ensure_ascii=True, default=str, separators=(",", ":"))

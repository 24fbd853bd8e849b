"""What a timeline event records of a row, by hash: so the chain covers content, not only ids.

A service that records an event about a message, a finding, an answer, a
decision or a statement puts `content_sha256` of that row's fields into the
event's details; the event's hash then covers them. Each app names the rows
it records in its AppConfig's `recorded_content`, so `verify_chain` (in the
timeline's own layer) can load and hash them again without importing any app.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder

CONTENT_KEY = "content_sha256"


@dataclass(frozen=True)
class RecordedContent:
    """The row an event names in its details, and the fields its content hash covers.

    `key` is the details entry that names the row; `lookup` the row's field it
    holds (its id unless said otherwise). Only fields that never change once
    the event is recorded belong in `fields`.
    """

    verbs: tuple[str, ...]
    model: str
    key: str
    fields: tuple[str, ...]
    lookup: str = "pk"
    # Fields added after rows were recorded: hashed only when set, so that the
    # rows recorded before them still verify.
    later_fields: tuple[str, ...] = ()

    def sha256(self, row) -> str:
        """Return the content hash of the row's recorded fields."""
        values = {}
        for name in self.fields:
            field = row._meta.get_field(name)
            value = getattr(row, field.attname)
            if isinstance(value, dt.datetime):  # as stored: the same instant reads back in UTC
                value = value.astimezone(dt.UTC)
            values[name] = value
        for name in self.later_fields:
            value = getattr(row, row._meta.get_field(name).attname)
            if value not in (None, "", [], {}):
                values[name] = value
        payload = json.dumps(values, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
        return hashlib.sha256(payload.encode()).hexdigest()

    def get_model(self):
        return apps.get_model(self.model)


def recorded_content() -> dict[str, RecordedContent]:
    """Return every app's recorded content, by the verb of the event that records it."""
    found: dict[str, RecordedContent] = {}
    for config in apps.get_app_configs():
        for spec in getattr(config, "recorded_content", ()):
            for verb in spec.verbs:
                found[verb] = spec
    return found


@dataclass(frozen=True)
class RecordSection:
    """One part of a case's exported record: a name and the function that writes it.

    `write(record, case, internal)` adds files to the record (`record.add_json`,
    `record.add_file`); `internal` is whether the record is CAISI's, with its
    internal material, or the company's. The export writes its own sections and
    then those every app declares in its AppConfig's `record_sections`, so an
    app added later (incidents, monitoring reports) extends the record without
    the export importing it.
    """

    name: str
    write: Callable


def record_sections() -> list[RecordSection]:
    """Return the record sections the apps declare, in app order."""
    return [
        section
        for config in apps.get_app_configs()
        for section in getattr(config, "record_sections", ())
    ]

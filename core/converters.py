"""The `<case:…>` path converter, registered once for every URLconf."""

from django.urls import register_converter

# What a case number looks like: CAISI-2026-0001.
CASE_NUMBER_PATTERN = r"CAISI-\d{4}-\d{4,}"


class CaseNumberConverter:
    regex = CASE_NUMBER_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CaseNumberConverter, "case")

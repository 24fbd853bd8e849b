"""Fixtures for the submission tests: a private media folder and raw multipart bodies.

Django's test client cleans file names before sending them; the bad-name
tests need the raw bytes a hostile client could send, so they build the
multipart body themselves.
"""

import io
import os

import pytest
from django.core.files.storage import default_storage

BOUNDARY = "----caisi-test-boundary-7d3f"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(folder: str = "") -> list[str]:
    """Every file under the media root (or one folder of it)."""
    root = default_storage.path(folder)
    if not os.path.isdir(root):
        return []
    return sorted(
        os.path.relpath(os.path.join(dirpath, name), root)
        for dirpath, _, names in os.walk(root)
        for name in names
    )


def multipart(fields: dict, files: list[tuple[str, str, bytes, str]]) -> bytes:
    """Encode form fields and (field, raw file name, content, type) files, names untouched."""
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f"--{BOUNDARY}\r\n".encode())
        out.write(f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(str(value).encode() + b"\r\n")
    for field, filename, content, content_type in files:
        out.write(f"--{BOUNDARY}\r\n".encode())
        out.write(
            f'Content-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'.encode(
                "utf-8", "surrogatepass"
            )
        )
        out.write(f"Content-Type: {content_type}\r\n\r\n".encode())
        out.write(content + b"\r\n")
    out.write(f"--{BOUNDARY}--\r\n".encode())
    return out.getvalue()


def post_multipart(client, url: str, body: bytes, *, declared_length=None, **extra):
    """POST a raw multipart body; a declared length above the body's simulates a cut-off upload."""
    return client.generic(
        "POST",
        url,
        "",  # the body goes in as a stream below, uncopied
        CONTENT_TYPE=f"multipart/form-data; boundary={BOUNDARY}",
        CONTENT_LENGTH=str(declared_length if declared_length is not None else len(body)),
        **{"wsgi.input": io.BytesIO(body)},
        **extra,
    )


@pytest.fixture
def liaison_client(client, liaison):
    client.force_login(liaison)
    return client


MODEL_CARD = b"""---
license: other
---
# Atlas model card

## Model details and technical specifications
Decoder-only transformer.

## Uses
### Intended uses
Drafting and analysis.

### Out-of-scope uses
Weapons uplift.

## Bias, risks and limitations
Hallucinates citations.

## Training data
Licensed web text.

## Evaluation
Red-teaming and bias audit.

## Environmental impact
3.1e24 FLOP.
"""

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

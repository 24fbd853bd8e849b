"""Inspect's own log viewer, served from the built files inside the inspect_ai package.

The viewer is a single-page app that, given `?log_file=<url>`, fetches that
log straight from the portal (HTTP range requests for an `.eval` archive).
Its files are read from the installed package, never collected as static
files, so the viewer is the one that matches the Inspect that reads the logs.
Its pages carry the policy Inspect ships beside them
(dist/content-security-policy.json), which it needs for its inline theme
script (by hash), WebAssembly decompression ('wasm-unsafe-eval'), web workers
and inline style attributes; frames of it are refused, as on every portal page.
"""

import importlib.util
import json
import mimetypes
from functools import cache
from pathlib import Path

from django.http import FileResponse, Http404, HttpResponse

_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".wasm": "application/wasm",
    ".json": "application/json",
}


@cache
def dist() -> Path:
    # Found without importing inspect_ai, which takes seconds to load.
    (package,) = importlib.util.find_spec("inspect_ai").submodule_search_locations
    return Path(package).resolve() / "_view" / "dist"


@cache
def policy() -> str:
    """The viewer's Content-Security-Policy: Inspect's own, with frames of it refused."""
    shipped = json.loads((dist() / "content-security-policy.json").read_text())
    directives = dict(shipped["directives"])
    directives["frame-ancestors"] = ["'none'"]
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def index() -> HttpResponse:
    response = HttpResponse((dist() / "index.html").read_bytes(), content_type="text/html")
    response["Content-Security-Policy"] = policy()
    return response


def asset(path: str) -> FileResponse:
    """Return one file of the viewer's assets folder; nothing outside it."""
    folder = (dist() / "assets").resolve()
    if not path.startswith("assets/"):
        raise Http404("No such file.")
    target = (dist() / path).resolve()
    if target.parent != folder or not target.is_file():
        raise Http404("No such file.")
    content_type = _TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0]
    response = FileResponse(
        target.open("rb"), content_type=content_type or "application/octet-stream"
    )
    response["Content-Security-Policy"] = policy()
    response["Cache-Control"] = "private, max-age=3600"
    return response

"""The portal's settings, plus what the benchmark needs to look inside each request.

Only `make bench` uses this module: it serves the portal's own URLconf with one
extra, bare view (the baseline), and a middleware that counts the queries and
times each request on the server.
"""

from caisi_portal.settings import *  # noqa: F403
from caisi_portal.settings import MIDDLEWARE, STORAGES

ROOT_URLCONF = "bench.urls"
# First, so the count and the time cover the whole stack: sessions, auth, the view.
MIDDLEWARE = ["bench.middleware.measure_request", *MIDDLEWARE]
# Static files are not what is measured; plain storage needs no collectstatic manifest.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

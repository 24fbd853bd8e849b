"""The portal's settings, plus what the benchmark needs to look inside each request.

Only `make bench` uses this module: it serves the portal's own URLconf with one
extra, bare view (the baseline), and a middleware that counts the queries and
times each request on the server. Everything else is the production settings,
static files included (collected by the bench, as the compose file does).
"""

from caisi_portal.settings import *  # noqa: F403
from caisi_portal.settings import MIDDLEWARE

ROOT_URLCONF = "bench.urls"
# First, so the count and the time cover the whole stack: sessions, auth, the view.
MIDDLEWARE = ["bench.middleware.measure_request", *MIDDLEWARE]

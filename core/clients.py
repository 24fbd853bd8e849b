"""Who is asking: the client's address, the same for the lockout, rate limits and the log."""

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    """Return the address of the client that sent `request`.

    Behind TRUSTED_PROXY_COUNT proxies that each append to X-Forwarded-For, the
    client is that many entries from the right; entries further left are
    whatever the client chose to send and are never trusted. With no proxy
    (the default) the header is ignored, since anyone could write it.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < hops:
        return remote  # not through the expected proxies: the connection's own address
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote

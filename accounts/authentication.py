"""Bearer-token authentication for the REST API: `Authorization: Bearer <token>`."""

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from accounts.models import ApiToken
from accounts.services import TOKEN_USE_GRANULARITY, hash_api_token, note_api_token_use
from core import cache as generations

# When this process last recorded each token's use: with the token from the
# cache, its `last_used_at` is as old as the entry, so remember it here.
_noted_use: dict[int, object] = {}
# Which person and token each hash named when it last authenticated in this
# process, so a view can read that person's cache entries and count the
# token's budget in the round trip that reads the token. Only a hint of what to
# read: every request still checks the token as the shared cache holds it now
# (revoked, expired, the person deactivated), and a token's person never changes.
_known: dict[str, tuple[int, int]] = {}
KNOWN_TOKENS = 10_000


def token_key(digest: str) -> str:
    return f"apitoken:{digest}"


def bearer_digest(request) -> str | None:
    """Return the hash of the request's bearer token, or None without a well-formed one."""
    header = get_authorization_header(request).split()
    if len(header) != 2 or header[0].lower() != BearerTokenAuthentication.keyword:
        return None
    try:
        return hash_api_token(header[1].decode("ascii"))
    except UnicodeDecodeError:
        return None


def _token_with_user(digest: str) -> ApiToken | None:
    # The password hash is left behind: it has no use here and must not sit in
    # the cache. (A deferred field is neither loaded nor written by a save.)
    return (
        ApiToken.objects.select_related("user")
        .defer("user__password")
        .filter(secret_sha256=digest)
        .first()
    )


def find_token(digest: str, prefetched=None) -> ApiToken | None:
    """Return the token with this hash and its user (from the shared cache while current)."""

    def load() -> ApiToken | None:
        token = _token_with_user(digest)
        if token is not None:
            token.user.role  # noqa: B018 - read the membership now, kept with the entry
        return token

    return generations.cached(
        token_key(digest), generations.ACCESS, load=load, prefetched=prefetched
    )


def known_token(digest: str) -> tuple[int, int] | None:
    """Return (the person's id, the token's id) a token hash last authenticated as here."""
    return _known.get(digest)


def note_use(token: ApiToken, now) -> None:
    if not generations.enabled():
        note_api_token_use(token=token, at=now)
        return
    last = _noted_use.get(token.pk)
    if last is not None and now - last < TOKEN_USE_GRANULARITY:
        return
    note_api_token_use(token=token, at=now)
    _noted_use[token.pk] = now


class BearerTokenAuthentication(BaseAuthentication):
    """Authenticate a request by a personal API token; the token's user is the actor."""

    keyword = b"bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None  # no token: other schemes may try, else a 401 follows
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be “Bearer <token>”."
            )
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("The token is not valid.") from None
        digest = hash_api_token(raw)
        token = find_token(digest, prefetched=getattr(request._request, "cache_prefetch", None))
        now = timezone.now()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token is not valid.")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("The token has been revoked.")
        if token.expires_at is not None and token.expires_at <= now:
            raise exceptions.AuthenticationFailed("The token has expired.")
        note_use(token, now)
        if digest not in _known:
            if len(_known) >= KNOWN_TOKENS:
                _known.clear()
            _known[digest] = (token.user_id, token.pk)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token from Settings → API tokens, "
            "or `manage.py create_api_token`; or a service account's token, made by "
            "the company administrator. Scopes: a read-only token reads and never "
            "writes (403); a service account's read-only token reads case status "
            "only, `GET /api/v1/cases/` (to find a case's number) and "
            "`GET /api/v1/cases/{number}/status/`, every other request being a 403.",
        }

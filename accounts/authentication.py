"""Bearer-token authentication for the REST API: `Authorization: Bearer <token>`."""

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from .models import ApiToken
from .services import hash_api_token, note_api_token_use


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
        token = (
            ApiToken.objects.select_related("user")
            .filter(secret_sha256=hash_api_token(raw))
            .first()
        )
        now = timezone.now()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token is not valid.")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("The token has been revoked.")
        if token.expires_at is not None and token.expires_at <= now:
            raise exceptions.AuthenticationFailed("The token has expired.")
        note_api_token_use(token=token, at=now)
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
            "or `manage.py create_api_token`.",
        }

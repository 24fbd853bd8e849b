"""Single sign-on through OpenID Connect providers, on mozilla-django-oidc's code flow.

Two providers, each configured from the environment (settings.SSO_PROVIDERS):

- `company`: Login.gov-style, for company liaisons. The portal authenticates to
  its token endpoint with `private_key_jwt`, sends PKCE and asks for the basic
  identity level through `acr_values`; before a sensitive act (submitting an
  intake, answering a finding, reporting an incident) it asks again for the
  verified level (the step-up).
- `staff`: the agency's provider, for CAISI staff. Its assertion must show a
  phishing-resistant authenticator in `amr` or `acr`; otherwise the portal asks
  for its own second factor.

A person is found by the provider's (issuer, subject) on `ExternalIdentity`,
never by an email claim. A subject the portal does not know creates nothing,
unless an invitation is waiting: see `link_invited_subject`.

The library checks the state and the nonce, and sends PKCE; this module adds
the client assertion, the ID token's issuer, audience and expiry checks (the
library checks neither issuer nor audience), the matching by subject and the
sign-out at the provider.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import requests
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.http import require_POST
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from accounts import services
from accounts import session_keys as keys
from accounts.models import ExternalIdentity
from core.errors import ActionRefused
from core.security_log import security_event

# ID tokens are signed with a public-key algorithm; "none" and shared secrets never pass.
ID_TOKEN_ALGORITHMS = ("RS256", "PS256", "ES256")
# An `amr` or `acr` value that says "every sign-in through this provider is multi-factor".
ANY_SIGN_IN = "*"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DISCOVERY_SECONDS = 3600
_discovered: dict[str, tuple[float, dict]] = {}


class SignInRefused(Exception):
    """A sign-in through a provider the portal will not accept; `reason` is for the log."""

    def __init__(self, reason: str, message: str, status: int = 403):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Provider:
    """One OpenID provider as the portal is configured to use it."""

    name: str
    label: str
    kind: str  # "company" or "staff": whose accounts it signs in
    issuer: str
    client_id: str
    private_key: str
    key_id: str
    scopes: str = "openid email"
    acr_values: str = ""
    step_up_acr_values: str = ""
    # `amr`/`acr` values showing a second factor the portal accepts as its own.
    second_factor_values: tuple[str, ...] = ()
    # Endpoints named in the configuration win over the provider's discovery document.
    endpoints: dict = field(default_factory=dict)
    assertion_audience: str = ""

    def endpoint(self, name: str) -> str | None:
        if self.endpoints.get(name):
            return self.endpoints[name]
        return discovery(self.issuer).get(name)

    def proves_second_factor(self, claims: dict) -> bool:
        values = set(self.second_factor_values)
        if ANY_SIGN_IN in values:
            return True
        shown = set(claims.get("amr") or []) | {claims.get("acr") or ""}
        return bool(values & shown)

    def is_verified(self, acr: str | None) -> bool:
        wanted = set(self.step_up_acr_values.split())
        return bool(wanted) and acr in wanted


def providers() -> dict[str, Provider]:
    """Return the configured providers by name (none when the environment sets none)."""
    out = {}
    for name, conf in getattr(settings, "SSO_PROVIDERS", {}).items():
        conf = dict(conf)
        conf["second_factor_values"] = tuple(conf.get("second_factor_values") or ())
        out[name] = Provider(name=name, **conf)
    return out


def provider_named(name: str) -> Provider:
    provider = providers().get(name)
    if provider is None:
        raise Http404("No such sign-in provider.")
    return provider


def discovery(issuer: str) -> dict:
    """Return the provider's discovery document, fetched at most once an hour."""
    cached = _discovered.get(issuer)
    if cached and time.monotonic() - cached[0] < DISCOVERY_SECONDS:
        return cached[1]
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.SSO_TIMEOUT_SECONDS)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise SignInRefused(
            "provider_unreachable",
            "The sign-in provider cannot be reached just now. Try again in a few minutes.",
            status=503,
        ) from error
    if document.get("issuer") != issuer:
        raise SignInRefused("wrong_issuer", "The sign-in provider is misconfigured.", status=503)
    _discovered[issuer] = (time.monotonic(), document)
    return document


# --- Invitations -------------------------------------------------------------------


def link_invited_subject(*, request, provider: Provider, issuer: str, subject: str, claims: dict):
    """Link a first sign-in to the account an invitation waiting in the session names.

    The invitation token is put in the session (`session_keys.SSO_INVITATION`) when
    the person follows "Sign in with …" from an invitation page, by
    `?invitation=<token>` on the start URL. `settings.SSO_INVITATION_REDEEMER`
    names a function `(token, *, provider, claims) -> User` that redeems the
    invitation (checks it is valid, unused and unexpired, and makes or finds the
    account; `accounts.invitations.accept_through_sign_on` by default) or raises
    `ActionRefused` saying why not; the identity is linked only to the user it
    returns. Only a company provider redeems invitations (they are for company
    people). With no invitation, or no redeemer, nothing is created and None is
    returned; a refused invitation creates nothing and is a `SignInRefused`.
    """
    token = request.session.get(keys.SSO_INVITATION)
    redeemer_path = getattr(settings, "SSO_INVITATION_REDEEMER", "")
    if not token or not redeemer_path or provider.kind != "company":
        return None
    redeem = import_string(redeemer_path)
    try:
        with transaction.atomic():
            user = redeem(token, provider=provider.name, claims=claims)
            if user is None:
                return None
            ExternalIdentity.objects.create(
                user=user, provider=provider.name, issuer=issuer, subject=subject
            )
    except ActionRefused as refusal:
        # This link will not work on another try either: the person starts again from a new one.
        request.session.pop(keys.SSO_INVITATION, None)
        raise SignInRefused(
            "invitation_refused", " ".join(refusal.blockers), status=refusal.http_status
        ) from refusal
    request.session.pop(keys.SSO_INVITATION, None)
    security_event("sso_subject_linked", request=request, user=user, provider=provider.name)
    return user


# --- The backend ---------------------------------------------------------------------


class ProviderBackend(OIDCAuthenticationBackend):
    """Authenticate the code a provider sent back, for the callback view of that provider."""

    def __init__(self, *args, **kwargs):
        # The library reads one provider from settings here; this backend reads its
        # provider from the callback request instead.
        self.UserModel = get_user_model()

    def get_settings(self, attr, *args):
        provider = self.provider
        values = {
            "OIDC_AUTHENTICATION_CALLBACK_URL": f"accounts:sso_{provider.name}_callback",
            "OIDC_RP_SCOPES": provider.scopes,
            "OIDC_USE_NONCE": True,
            "OIDC_CREATE_USER": False,
            "OIDC_STORE_ACCESS_TOKEN": False,
            "OIDC_STORE_ID_TOKEN": False,
            "OIDC_TIMEOUT": settings.SSO_TIMEOUT_SECONDS,
            "OIDC_VERIFY_SSL": True,
            "OIDC_PROXY": None,
        }
        if attr in values:
            return values[attr]
        return getattr(settings, attr, *args)

    def authenticate(self, request, **kwargs):
        provider = getattr(request, "sso_provider", None) if request is not None else None
        if provider is None:
            return None
        self.provider = provider
        self.OIDC_OP_TOKEN_ENDPOINT = provider.endpoint("token_endpoint")
        self.OIDC_OP_USER_ENDPOINT = provider.endpoint("userinfo_endpoint")
        self.OIDC_OP_JWKS_ENDPOINT = provider.endpoint("jwks_uri")
        self.OIDC_RP_CLIENT_ID = provider.client_id
        self.OIDC_RP_CLIENT_SECRET = None
        self.OIDC_RP_IDP_SIGN_KEY = None
        return super().authenticate(request, **kwargs)

    def client_assertion(self) -> str:
        """Return the signed JWT the portal authenticates with (`private_key_jwt`)."""
        now = int(time.time())
        claims = {
            "iss": self.provider.client_id,
            "sub": self.provider.client_id,
            "aud": self.provider.assertion_audience or self.OIDC_OP_TOKEN_ENDPOINT,
            "jti": secrets.token_urlsafe(24),
            "iat": now,
            "exp": now + 300,
        }
        return jwt.encode(
            claims,
            self.provider.private_key,
            algorithm="RS256",
            headers={"kid": self.provider.key_id},
        )

    def get_token(self, payload):
        payload = dict(payload)
        payload.pop("client_secret", None)
        payload["client_assertion_type"] = CLIENT_ASSERTION_TYPE
        payload["client_assertion"] = self.client_assertion()
        try:
            response = requests.post(
                self.OIDC_OP_TOKEN_ENDPOINT, data=payload, timeout=settings.SSO_TIMEOUT_SECONDS
            )
        except requests.RequestException as error:
            raise SignInRefused(
                "provider_unreachable",
                "The sign-in provider cannot be reached just now. Try again in a few minutes.",
                status=503,
            ) from error
        if response.status_code != 200:
            raise SignInRefused(
                "token_refused",
                "The sign-in provider did not confirm this sign-in. Please start again.",
            )
        try:
            return response.json()
        except ValueError as error:
            raise SignInRefused(
                "token_unreadable", "The provider's answer was unreadable."
            ) from error

    def verify_token(self, token, **kwargs):
        """Check the ID token's signature, issuer, audience, expiry and nonce; return its claims."""
        if not token:
            raise SignInRefused("no_id_token", "The sign-in provider sent no identity.")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise SignInRefused(
                "malformed_id_token", "The identity sent was unreadable."
            ) from error
        algorithm = header.get("alg")
        if algorithm not in ID_TOKEN_ALGORITHMS:
            raise SignInRefused("bad_algorithm", "The identity sent was not signed acceptably.")
        self.OIDC_RP_SIGN_ALGO = algorithm
        try:
            key = self.retrieve_matching_jwk(token)
        except (SuspiciousOperation, requests.RequestException, jwt.PyJWTError) as error:
            raise SignInRefused(
                "unknown_key", "The identity sent was not signed by the provider."
            ) from error
        refusals = {
            jwt.ExpiredSignatureError: (
                "expired",
                "The identity sent has expired. Please start again.",
            ),
            jwt.InvalidAudienceError: (
                "wrong_audience",
                "The identity sent was meant for another service.",
            ),
            jwt.InvalidIssuerError: (
                "wrong_issuer",
                "The identity sent came from another provider.",
            ),
            jwt.InvalidSignatureError: (
                "bad_signature",
                "The identity sent was altered on its way.",
            ),
            jwt.ImmatureSignatureError: ("not_yet_valid", "The identity sent is not valid yet."),
        }
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.provider.client_id,
                issuer=self.provider.issuer,
                leeway=settings.SSO_CLOCK_LEEWAY_SECONDS,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.PyJWTError as error:
            reason, message = next(
                (value for kind, value in refusals.items() if isinstance(error, kind)),
                ("invalid_id_token", "The identity sent could not be checked."),
            )
            raise SignInRefused(reason, message) from error
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.provider.client_id:
            raise SignInRefused(
                "wrong_audience", "The identity sent was meant for another service."
            )
        if not kwargs.get("nonce") or claims.get("nonce") != kwargs["nonce"]:
            raise SignInRefused("nonce_mismatch", "The identity sent belongs to another sign-in.")
        return claims

    def get_or_create_user(self, access_token, id_token, payload):
        """Return the person linked to the token's (issuer, subject); link an invited one."""
        provider, request = self.provider, self.request
        issuer, subject = payload["iss"], str(payload["sub"])
        identity = (
            ExternalIdentity.objects.select_related("user")
            .filter(issuer=issuer, subject=subject)
            .first()
        )
        if identity is not None:
            user = identity.user
            ExternalIdentity.objects.filter(pk=identity.pk).update(last_sign_in_at=timezone.now())
        else:
            claims = dict(payload)
            try:
                info = self.get_userinfo(access_token, id_token, payload)
            except (requests.RequestException, ValueError, SuspiciousOperation):
                info = {}
            if str(info.get("sub", subject)) == subject:
                claims = {**info, **payload}
            user = link_invited_subject(
                request=request, provider=provider, issuer=issuer, subject=subject, claims=claims
            )
            if user is None:
                raise SignInRefused(
                    "unknown_subject",
                    f"You signed in with {provider.label}, but no portal account is linked to it. "
                    "If your company invited you, open the invitation link and sign in from there; "
                    "otherwise ask your company's administrator or CAISI for access.",
                )
        staff_account = user.is_caisi_staff or user.is_staff or user.is_superuser
        if (provider.kind == "staff") != staff_account:
            raise SignInRefused(
                "wrong_provider",
                "This account signs in through the other provider: "
                + ("CAISI staff sign-in." if staff_account else "Login.gov."),
            )
        request.sso_claims = payload
        request.sso_id_token = id_token
        return user


# --- The views -------------------------------------------------------------------------


def _refused(request, refusal: SignInRefused, provider: Provider | None):
    security_event(
        "sso_sign_in_refused",
        request=request,
        provider=provider.name if provider else None,
        reason=refusal.reason,
    )
    return render(
        request,
        "accounts/sso/refused.html",
        {"message": refusal.message, "provider": provider},
        status=refusal.status,
    )


class ProviderStartView(OIDCAuthenticationRequestView):
    """Send the person to the provider: state, nonce, PKCE and the identity level asked for."""

    provider_name = ""
    step_up = False

    def __init__(self, **kwargs):
        View.__init__(self, **kwargs)

    def get_settings(self, attr, *args):
        values = {
            "OIDC_AUTHENTICATION_CALLBACK_URL": f"accounts:sso_{self.provider.name}_callback",
            "OIDC_RP_SCOPES": self.provider.scopes,
            "OIDC_USE_PKCE": True,
            "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
            "OIDC_USE_NONCE": True,
        }
        if attr in values:
            return values[attr]
        return getattr(settings, attr, *args)

    def get_extra_params(self, request):
        if self.step_up:
            # prompt=login: the provider checks the person again, at the verified level.
            return {"acr_values": self.provider.step_up_acr_values, "prompt": "login"}
        return {"acr_values": self.provider.acr_values} if self.provider.acr_values else {}

    def get(self, request, provider=None):
        self.provider = provider_named(provider or self.provider_name)
        invitation = request.GET.get("invitation", "").strip()
        if invitation:
            request.session[keys.SSO_INVITATION] = invitation[:200]
        try:
            self.OIDC_OP_AUTH_ENDPOINT = self.provider.endpoint("authorization_endpoint")
        except SignInRefused as refusal:
            return _refused(request, refusal, self.provider)
        self.OIDC_RP_CLIENT_ID = self.provider.client_id
        response = super().get(request)
        # The state remembers its provider, so a callback can only finish the flow it began.
        state = parse_qs(urlsplit(response.url).query)["state"][0]
        request.session["oidc_states"][state]["provider"] = self.provider.name
        request.session["oidc_states"][state]["step_up"] = self.step_up
        request.session.modified = True
        return response


class ProviderCallbackView(OIDCAuthenticationCallbackView):
    """Finish a sign-in: the code for tokens, the ID token checked, the person found."""

    provider_name = ""

    def get_settings(self, attr, *args):
        values = {
            "LOGIN_REDIRECT_URL": settings.LOGIN_REDIRECT_URL,
            "LOGIN_REDIRECT_URL_FAILURE": settings.LOGIN_URL,
        }
        if attr in values:
            return values[attr]
        return getattr(settings, attr, *args)

    def get(self, request):
        provider = provider_named(self.provider_name)
        request.sso_provider = provider
        if "error" in request.GET:
            super().get(request)  # forgets the state, and signs out whoever was signed in
            return _refused(
                request,
                SignInRefused(
                    "provider_error",
                    f"{provider.label} did not sign you in. You can try again.",
                    status=400,
                ),
                provider,
            )
        state = request.GET.get("state", "")
        entry = request.session.get("oidc_states", {}).get(state)
        if not request.GET.get("code") or entry is None or entry.get("provider") != provider.name:
            return _refused(
                request,
                SignInRefused(
                    "unknown_state",
                    "This sign-in link was already used, or was not started in this browser. "
                    "Please sign in again.",
                    status=400,
                ),
                provider,
            )
        self.step_up = bool(entry.get("step_up"))
        try:
            return super().get(request)
        except SignInRefused as refusal:
            return _refused(request, refusal, provider)

    def login_failure(self):
        return _refused(
            self.request,
            SignInRefused("inactive", "This account cannot sign in.", status=403),
            self.request.sso_provider,
        )

    def login_success(self):
        request, provider = self.request, self.request.sso_provider
        already = request.user.is_authenticated and request.user == self.user
        old_key = request.session.session_key
        response = super().login_success()
        if already:
            # The same person proved more (the step-up): a new session id for new privileges.
            request.session.cycle_key()
            services.record_signed_in_session(
                user=self.user, session_key=request.session.session_key, replaces=old_key
            )
        claims = request.sso_claims
        session = request.session
        session[keys.SSO_PROVIDER] = provider.name
        session[keys.SSO_ACR] = claims.get("acr") or ""
        session[keys.SSO_AMR] = list(claims.get("amr") or [])
        session[keys.SSO_ID_TOKEN] = request.sso_id_token
        if provider.proves_second_factor(claims):
            session[keys.SECOND_FACTOR_DEVICE] = f"sso:{provider.name}"
        if provider.is_verified(claims.get("acr")):
            # Remembered beyond this session: the person's API tokens act on it too.
            ExternalIdentity.objects.filter(
                issuer=claims["iss"], subject=str(claims["sub"])
            ).update(identity_verified_at=timezone.now())
        security_event(
            "sso_sign_in",
            request=request,
            user=self.user,
            provider=provider.name,
            acr=claims.get("acr"),
            amr=",".join(claims.get("amr") or []),
            second_factor=provider.proves_second_factor(claims),
        )
        if self.step_up and not provider.is_verified(claims.get("acr")):
            # Signed in at the basic level only: say so, rather than ask again and again.
            return _refused(
                request,
                SignInRefused(
                    "step_up_not_verified",
                    f"{provider.label} could not confirm your verified identity, which this "
                    "step needs. Verify your identity with it, then try again.",
                ),
                provider,
            )
        return response


def identity_verified(request) -> bool:
    """Return whether this session proved the company provider's verified identity level."""
    company = providers().get("company")
    return (
        company is not None
        and request.session.get(keys.SSO_PROVIDER) == "company"
        and company.is_verified(request.session.get(keys.SSO_ACR))
    )


# The lifecycle actions a liaison takes only with a verified identity (with a
# finding's answer and an incident report, which are acts of their own).
SENSITIVE_CASE_ACTIONS = frozenset({"submit_intake"})


def step_up_applies(user) -> bool:
    """Return whether this person's sensitive acts need the verified identity level.

    Company people (and their service accounts), while the company provider is
    configured and SSO_STEP_UP_REQUIRED is on; never CAISI staff.
    """
    return (
        user.is_authenticated
        and not user.is_caisi_staff
        and user.membership is not None
        and settings.SSO_STEP_UP_REQUIRED
        and "company" in providers()
    )


def has_verified_identity(user) -> bool:
    """Return whether a sign-in of this person ever proved the verified identity level."""
    return ExternalIdentity.objects.filter(
        user=user, provider="company", identity_verified_at__isnull=False
    ).exists()


def step_up_url(back: str) -> str:
    """Return the step-up's URL, coming back to the page `back` (a path of this site)."""
    return f"{reverse('accounts:sso_step_up')}?{urlencode({'next': back})}"


@require_POST
def sign_out(request):
    """Sign out here, and at the provider the session signed in through (RP-initiated logout)."""
    provider = providers().get(request.session.get(keys.SSO_PROVIDER) or "")
    id_token = request.session.get(keys.SSO_ID_TOKEN)
    auth.logout(request)
    if provider is not None and id_token:
        try:
            end_session = provider.endpoint("end_session_endpoint")
        except SignInRefused:
            end_session = None
        if end_session:
            query = urlencode(
                {
                    "id_token_hint": id_token,
                    "client_id": provider.client_id,
                    "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
                }
            )
            return redirect(f"{end_session}?{query}")
    return redirect(settings.LOGOUT_REDIRECT_URL)

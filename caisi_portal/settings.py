"""Settings for the CAISI Review Portal, driven by environment variables.

With no variables set, the portal runs on the embedded default: SQLite and
Celery tasks executed in-process. Production sets DEBUG=0, SECRET_KEY,
ALLOWED_HOSTS, DATABASE_URL and CELERY_BROKER_URL (see README.md).
"""

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" + (",testserver" if DEBUG else ""))
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # The admin, behind the portal's second factor (accounts/admin_site.py).
    "accounts.admin_site.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "axes",
    "csp",
    # The layers, lowest first (DESIGN.md, "Layout"; `make lint` checks the imports).
    "core",
    "accounts",
    "cases",
    "submissions",
    "findings",
    "clearance",
    "incidents",
    "notifications",
    "deadlines",
    "webhooks",
    "review",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "caisi_portal.middleware.RejectNulInPathMiddleware",
    "caisi_portal.middleware.DatabaseUnavailableMiddleware",
    # Before the CSRF check, which reads the body: every file is capped as it arrives.
    "caisi_portal.middleware.UploadPipelineMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before the session timeout, which tells the person why they must sign in again.
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "accounts.middleware.StepUpMiddleware",
    "accounts.middleware.NoStoreMiddleware",
    "accounts.middleware.SecurityEventMiddleware",
    "accounts.middleware.ServiceAccountAuditMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it answers a locked-out sign-in.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "caisi_portal.urls"
WSGI_APPLICATION = "caisi_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.services.unread_count",
                "accounts.context_processors.sign_in_state",
                "core.pages.site_identity",
            ],
        },
    },
]

# Persistent connections: opening a PostgreSQL connection for every request
# (a backend forked, authentication) left the status API a tenth of the
# throughput it has with them. With DEBUG off each connection is kept 60 s and
# checked before its first use in a request, so one the server dropped is
# replaced instead of failing that request. DEBUG keeps 0: runserver serves each
# request in a new thread, whose connection would never be reused, only held.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0 if DEBUG else 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiles any query its planner deems costly; for the desk
    # dashboard's counts over every open case that took 0.6 s to save 0.1 s.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default writes from in-process tasks (a statement signed in a
    # thread of its own) while it answers requests. A writer waits its turn (up to
    # 20 s) from the start of its transaction instead of failing with "database is
    # locked" when another wrote first, and readers never hold a writer up (WAL).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE", timeout=20, init_command="PRAGMA journal_mode=WAL;"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out sign-in is refused before any password is checked.
    "accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Sign-in through an OpenID provider; used by the providers' callback pages only.
    "accounts.sso.ProviderBackend",
]
LOGIN_URL = "login"
# How long a password-reset link works, in seconds; the email says so.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3600)
LOGIN_REDIRECT_URL = "cases:dashboard"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# Companies see "CAISI evaluator" rather than an evaluator's name, unless this is set.
SHOW_STAFF_NAMES_TO_COMPANIES = env_bool("SHOW_STAFF_NAMES_TO_COMPANIES", False)
TIME_ZONE = env("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True
# One style for dates across pages, statements and emails (caisi_portal/formats/en).
FORMAT_MODULE_PATH = ["caisi_portal.formats"]

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
if env("AWS_STORAGE_BUCKET_NAME"):
    # S3-compatible storage through django-storages (the `s3` extra). The keys
    # come from boto3's own sources: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,
    # or the host's role. A name already stored is never overwritten: Inspect
    # logs keep the uploaded file name, which two cases may share.
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env("AWS_S3_REGION_NAME") or None,
            "file_overwrite": False,
        },
    }

# The identifier at the foot of every page (USWDS): the agency and the links
# every federal site carries. The accessibility statement and privacy notice
# default to the portal's own pages.
AGENCY_NAME = env("AGENCY_NAME", "Center for AI Standards and Innovation (CAISI)")
AGENCY_PARENT_NAME = env("AGENCY_PARENT_NAME", "U.S. Department of Commerce")
AGENCY_URL = env("AGENCY_URL", "https://www.nist.gov/caisi")
ABOUT_URL = env("ABOUT_URL", "https://www.nist.gov/caisi")
ACCESSIBILITY_URL = env("ACCESSIBILITY_URL", "/accessibility/")
FOIA_URL = env("FOIA_URL", "https://www.nist.gov/foia")
NO_FEAR_ACT_URL = env("NO_FEAR_ACT_URL", "https://www.commerce.gov/cr/reports-and-resources/no-fear-act")
PRIVACY_URL = env("PRIVACY_URL", "/privacy/")
USAGOV_URL = env("USAGOV_URL", "https://www.usa.gov/")
ACCESSIBILITY_CONTACT_EMAIL = env("ACCESSIBILITY_CONTACT_EMAIL", "caisi-portal@nist.gov")
# Where a company writes once its case has ended and the case thread is closed.
CAISI_CONTACT_EMAIL = env("CAISI_CONTACT_EMAIL", "caisi-portal@nist.gov")

# A refused CSRF check shows the portal's own page, which keeps what was typed.
CSRF_FAILURE_VIEW = "core.pages.csrf_failure"

# USWDS form groups, written in the project: templates/uswds/.
CRISPY_ALLOWED_TEMPLATE_PACKS = ("uswds",)
CRISPY_TEMPLATE_PACK = "uswds"

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "CAISI Review Portal <no-reply@caisi.example>")

# Celery: with no broker configured, tasks run in-process (the embedded default).
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message a worker took and never acknowledged (the worker died) goes back on
# the queue once the visibility timeout has passed; workers look for such
# messages every interval x throttle seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": env_int("CELERY_UNACKED_RESTORE_THROTTLE", 10),
}
CELERY_TIMEZONE = TIME_ZONE
# The outbox (cases/outbox.py): a publish after commit tries the broker once for
# at most this long; rows left behind are published every OUTBOX_DRAIN_SECONDS
# and whenever a worker connects.
OUTBOX_PUBLISH_TIMEOUT_SECONDS = env_int("OUTBOX_PUBLISH_TIMEOUT_SECONDS", 1)
OUTBOX_DRAIN_SECONDS = env_int("OUTBOX_DRAIN_SECONDS", 60)
OUTBOX_DRAIN_BATCH = env_int("OUTBOX_DRAIN_BATCH", 500)
# /healthz: how long each process reuses its public answer (status only; staff and
# API tokens get the detail, checked on every request).
HEALTHZ_PUBLIC_SECONDS = env_int("HEALTHZ_PUBLIC_SECONDS", 5)
# How often one sweep publishes again the background work whose message was lost.
WORK_SWEEP_SECONDS = env_int("WORK_SWEEP_SECONDS", 300)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Bounded bodies, and files through the one upload pipeline (core/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.BoundedJSONParser",
        "core.parsers.BoundedFormParser",
        "core.parsers.UploadPipelineParser",
    ],
    # The API's views (core/api.py) add the per-token throttle and problem-details errors.
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CAISI Review Portal API",
    "DESCRIPTION": (
        "Follow and take part in CAISI's pre-release review of AI models. Every request "
        "carries a personal token: `Authorization: Bearer <token>`. A token sees exactly "
        "what its owner sees; a case its owner may not see answers 404. Errors are RFC 9457 "
        "problem details (`application/problem+json`)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVERS": [{"url": SITE_URL, "description": "This portal"}],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.declare_headers",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "cases.status.Status",
        "DocumentKindEnum": "submissions.models.DocumentKind",
        "AnswerKindEnum": "findings.models.FindingResponse.Kind",
        "RunStatusEnum": "findings.models.EvaluationRun.RunStatus",
        "ClarificationStatusEnum": "findings.models.ClarificationRequest.RequestStatus",
        "FindingSeverityEnum": "findings.models.Severity",
        "IncidentSeverityEnum": "incidents.models.IncidentSeverity",
        "PracticeStatusEnum": "submissions.models.PracticeStatus",
        "DeliveryStatusEnum": "webhooks.models.WebhookDelivery.DeliveryStatus",
    },
}

# Domain settings.
REVIEW_LEAD_TIME_DAYS = env_int("REVIEW_LEAD_TIME_DAYS", 90)
DEMO_PASSWORD = env("DEMO_PASSWORD", "demo-pass-2026")


def env_days(name: str, default: str) -> dict[str, int]:
    """Parse "triage=5,access=10" into {"triage": 5, "access": 10}."""
    pairs = (item.split("=", 1) for item in env_list(name, default))
    return {key.strip(): int(value) for key, value in pairs}


def env_offsets(name: str, default: str) -> dict[str, list[int]]:
    """Parse "planned_release=30/14/7/1/0,..." into {"planned_release": [30, 14, 7, 1, 0]}."""
    pairs = (item.split("=", 1) for item in env_list(name, default))
    return {key.strip(): [int(v) for v in value.split("/")] for key, value in pairs}


# Deadlines and reminders (issue notes in cases/deadlines.py).
# Working days each open status may take before CAISI (or the company) is late.
SERVICE_LEVEL_WORKING_DAYS = env_days(
    "SERVICE_LEVEL_WORKING_DAYS", "triage=5,access=10,documentation=10,testing=30,findings=20"
)
# Days before each kind of deadline that a reminder goes out (0: on the day);
# while overdue, a reminder follows every REMINDER_OVERDUE_EVERY_DAYS.
REMINDER_OFFSETS_DAYS = env_offsets(
    "REMINDER_OFFSETS_DAYS",
    "planned_release=30/14/7/1/0,clarification_due=7/1/0,finding_response_due=7/1/0,"
    "access_expiry=14/7/1/0,service_level=1/0,incident_initial_report=1/0,"
    "incident_update=7/1/0,incident_final_report=14/7/1/0,monitoring_report_due=14/7/1/0",
)
REMINDER_OVERDUE_EVERY_DAYS = env_int("REMINDER_OVERDUE_EVERY_DAYS", 7)
FINDING_RESPONSE_DAYS = env_int("FINDING_RESPONSE_DAYS", 14)
# Incidents after release, by default the EU General-Purpose AI Code of Practice's
# serious-incident timelines: the initial report within 2, 5, 10 or 15 days of
# awareness by severity, an update at least every 4 weeks while the incident is
# open, and the final report within 60 days of its resolution.
INCIDENT_INITIAL_REPORT_DAYS = env_days(
    "INCIDENT_INITIAL_REPORT_DAYS", "critical=2,high=5,medium=10,low=15"
)
INCIDENT_UPDATE_EVERY_DAYS = env_int("INCIDENT_UPDATE_EVERY_DAYS", 28)
INCIDENT_FINAL_REPORT_DAYS = env_int("INCIDENT_FINAL_REPORT_DAYS", 60)
REMINDER_SWEEP_SECONDS = env_int("REMINDER_SWEEP_SECONDS", 300)
DIGEST_HOUR = env_int("DIGEST_HOUR", 8)

# Submissions (step 1, 3 and 4): upload limits and the credential keys.
# Uploads always spool to a temporary file, never into memory (see
# submissions/uploads.py); these caps are checked while the bytes arrive.
SUBMISSION_ARTIFACT_MAX_BYTES = env_int("SUBMISSION_ARTIFACT_MAX_BYTES", 2 * 1024**3)
SUBMISSION_DOCUMENT_MAX_BYTES = env_int("SUBMISSION_DOCUMENT_MAX_BYTES", 50 * 1024**2)
# Resumable weight uploads (the tus protocol, submissions/resumable.py) take files up to
# this size; their pieces wait in a local folder until the file is whole, and an
# upload left unfinished this many hours (since its last piece) is removed.
RESUMABLE_UPLOAD_MAX_BYTES = env_int("RESUMABLE_UPLOAD_MAX_BYTES", 1024**4)
RESUMABLE_UPLOAD_ROOT = Path(env("RESUMABLE_UPLOAD_ROOT", str(MEDIA_ROOT / "resumable")))
RESUMABLE_UPLOAD_EXPIRY_HOURS = env_int("RESUMABLE_UPLOAD_EXPIRY_HOURS", 24)
RESUMABLE_UPLOAD_SWEEP_SECONDS = env_int("RESUMABLE_UPLOAD_SWEEP_SECONDS", 3600)
# Inspect AI logs CAISI's evaluators import (step 5).
# Real logs reach gigabytes; they are streamed to disk and read as a stream, never whole.
INSPECT_LOG_MAX_BYTES = env_int("INSPECT_LOG_MAX_BYTES", 8 * 1024**3)
# A log larger than this is kept by the request and read by a worker (about 5 s of
# reading at most stays in the request); the page shows the import until it is done.
INSPECT_LOG_INLINE_BYTES = env_int("INSPECT_LOG_INLINE_BYTES", 64 * 1024**2)
# Fernet keys for access credentials, newest first; older keys still decrypt
# until `manage.py reencrypt_credentials` has moved every row to the newest.
# Without any, DEBUG derives one from SECRET_KEY; production must set them
# (`manage.py reencrypt_credentials --new-key` prints a fresh key).
CREDENTIAL_ENCRYPTION_KEYS = env_list("CREDENTIAL_ENCRYPTION_KEYS")
if not CREDENTIAL_ENCRYPTION_KEYS and DEBUG:
    import base64
    import hashlib

    CREDENTIAL_ENCRYPTION_KEYS = [
        base64.urlsafe_b64encode(
            hashlib.sha256(f"credentials:{SECRET_KEY}".encode()).digest()
        ).decode()
    ]

# Clearance statements (step 7): the identity that signs statement PDFs, the
# periodic render sweep, and the verification page's rate limit. The default
# paths are where `manage.py create_signing_identity` puts a self-signed
# development identity (a folder it keeps out of version control).
CLEARANCE_SIGNING_KEY = env("CLEARANCE_SIGNING_KEY", str(BASE_DIR / "signing" / "statement.key"))
CLEARANCE_SIGNING_CERT = env("CLEARANCE_SIGNING_CERT", str(BASE_DIR / "signing" / "statement.crt"))
CLEARANCE_SIGNING_PASSPHRASE = env("CLEARANCE_SIGNING_PASSPHRASE")
CLEARANCE_RENDER_SWEEP_SECONDS = env_int("CLEARANCE_RENDER_SWEEP_SECONDS", 300)
# How often the heads of the case timelines are signed in a checkpoint (same identity).
TIMELINE_CHECKPOINT_SECONDS = env_int("TIMELINE_CHECKPOINT_SECONDS", 3600)
VERIFY_RATE_LIMIT_PER_MINUTE = env_int("VERIFY_RATE_LIMIT_PER_MINUTE", 30)
# The rate limit counts in the cache: per process by default, shared when
# CACHE_URL names a Redis database (redis://host:6379/N).
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env("CACHE_URL")}
        if env("CACHE_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# The REST API and webhooks: requests a minute per token (then 429 with
# Retry-After), and how webhook deliveries are sent and retried (the wait
# doubles from the base after each failed attempt).
API_THROTTLE_RATE = env("API_THROTTLE_RATE", "600/min")
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 50)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 30)
# Receivers on private, loopback or reserved addresses are refused unless this
# is on (a receiver on the same host during development, say); names that do
# not resolve are refused either way, and a delivery dials the address it checked.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)

# Production hardening: on whenever DEBUG is off, each switch overridable.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env_bool("USE_X_FORWARDED_PROTO", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Sign-in hardening (issue 7): second factor, lockout, sessions, headers, security log.
# CAISI staff must pass a TOTP code (or a single-use recovery code) after their
# password; liaisons may choose to. The issuer names the portal in authenticator apps.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "CAISI Review Portal")
# django-axes: this many failed sign-ins for one address from one IP lock it out
# for AXES_COOLOFF_MINUTES; a successful sign-in resets the count.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"  # the sign-in form's field, holding the email address
AXES_USERNAME_CALLABLE = "accounts.backends.sign_in_name"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False  # the portal's security log records lockouts as JSON instead
# The client's address for the lockout, rate limits and the security log. Behind
# proxies that append X-Forwarded-For, say how many; 0 (no proxy) ignores the header.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "core.clients.client_address"
# Sessions end after SESSION_IDLE_MINUTES without a request, and SESSION_ABSOLUTE_HOURS
# after sign-in whatever the activity (accounts/middleware.py enforces both server-side).
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
SESSION_ABSOLUTE_HOURS = env_int("SESSION_ABSOLUTE_HOURS", 12)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_HOURS * 3600

# Companies manage their own people (issue 17). Every company account owes a second
# factor unless this is switched off; service accounts act by token only.
COMPANY_SECOND_FACTOR_REQUIRED = env_bool("COMPANY_SECOND_FACTOR_REQUIRED", True)
# An invitation link works once, for this many days.
INVITATION_VALID_DAYS = env_int("INVITATION_VALID_DAYS", 7)
# Requests for access from one address in an hour, before the page asks to wait.
ACCESS_REQUEST_RATE_LIMIT_PER_HOUR = env_int("ACCESS_REQUEST_RATE_LIMIT_PER_HOUR", 5)
# A service account's token expires after this many days unless a shorter expiry is chosen.
SERVICE_ACCOUNT_TOKEN_DAYS = env_int("SERVICE_ACCOUNT_TOKEN_DAYS", 90)
# Single sign-on (issue 17) through OpenID Connect providers: `company` (Login.gov
# style, for liaisons) and `staff` (the agency's provider). A provider is on when
# its SSO_<NAME>_ISSUER is set; the portal authenticates to it with
# private_key_jwt: SSO_<NAME>_CLIENT_ID, the PEM private key in
# SSO_<NAME>_PRIVATE_KEY_FILE (or inline in SSO_<NAME>_PRIVATE_KEY) and the key's
# id in SSO_<NAME>_KEY_ID. Endpoints come from the issuer's discovery document.
# SSO_<NAME>_SECOND_FACTOR lists the `amr`/`acr` values an assertion must show
# for the portal to skip its own second factor ("*": every sign-in through it).
SSO_LOGIN_GOV_IAL1 = "http://idmanagement.gov/ns/assurance/ial/1"
SSO_LOGIN_GOV_IAL2 = "http://idmanagement.gov/ns/assurance/ial/2"
SSO_DEFAULTS = {
    "company": {
        "label": "Login.gov",
        "kind": "company",
        "scopes": "openid email",
        "acr_values": SSO_LOGIN_GOV_IAL1,
        "step_up_acr_values": SSO_LOGIN_GOV_IAL2,
        # Login.gov asks every account for a second factor at every sign-in.
        "second_factor": "*",
    },
    "staff": {
        "label": "CAISI staff sign-in",
        "kind": "staff",
        "scopes": "openid email",
        "acr_values": "",
        "step_up_acr_values": "",
        # Phishing-resistant authenticators (RFC 8176 `hwk`, `phr`/`phrh` as Login.gov
        # and Entra report them; PIV/CAC as AAL3 with HSPD-12).
        "second_factor": "phr,phrh,hwk,sc,http://idmanagement.gov/ns/assurance/aal/3?hspd12=true",
    },
}


def sso_provider(name: str) -> dict | None:
    prefix = f"SSO_{name.upper()}_"
    issuer = env(prefix + "ISSUER")
    if not issuer:
        return None
    defaults = SSO_DEFAULTS[name]
    key = env(prefix + "PRIVATE_KEY")
    if not key and env(prefix + "PRIVATE_KEY_FILE"):
        key = Path(env(prefix + "PRIVATE_KEY_FILE")).read_text()
    return {
        "label": env(prefix + "LABEL", defaults["label"]),
        "kind": defaults["kind"],
        "issuer": issuer,
        "client_id": env(prefix + "CLIENT_ID"),
        "private_key": key,
        "key_id": env(prefix + "KEY_ID"),
        "scopes": env(prefix + "SCOPES", defaults["scopes"]),
        "acr_values": env(prefix + "ACR_VALUES", defaults["acr_values"]),
        "step_up_acr_values": env(prefix + "STEP_UP_ACR_VALUES", defaults["step_up_acr_values"]),
        "second_factor_values": env_list(prefix + "SECOND_FACTOR", defaults["second_factor"]),
    }


SSO_PROVIDERS = {name: conf for name in SSO_DEFAULTS if (conf := sso_provider(name)) is not None}
SSO_TIMEOUT_SECONDS = env_int("SSO_TIMEOUT_SECONDS", 10)
# Clock difference allowed between the portal and a provider when checking an ID token.
SSO_CLOCK_LEEWAY_SECONDS = env_int("SSO_CLOCK_LEEWAY_SECONDS", 60)
# Whether a liaison must have proved the verified identity level (the step-up)
# before submitting an intake, answering a finding or reporting an incident;
# only while the company provider is configured.
SSO_STEP_UP_REQUIRED = env_bool("SSO_STEP_UP_REQUIRED", True)
# The function that redeems an invitation at a first sign-in through the company
# provider (accounts/sso.py, link_invited_subject); empty: an unknown subject is
# never given an account, even with an invitation.
SSO_INVITATION_REDEEMER = env(
    "SSO_INVITATION_REDEEMER", "accounts.invitations.accept_through_sign_on"
)
# Roles that may not sign in with a local password (they use their provider);
# superusers are the break-glass accounts and always may. E.g. "liaison,evaluator".
PASSWORD_SIGN_IN_DISABLED_ROLES = env_list("PASSWORD_SIGN_IN_DISABLED_ROLES")

# Security keys and passkeys (WebAuthn, django-otp-webauthn) as a second factor,
# never as a sign-in of their own. The relying party is the portal's host name;
# the origins its pages are served from (SITE_URL by default).
OTP_WEBAUTHN_RP_ID = env("WEBAUTHN_RP_ID", SITE_URL.split("://", 1)[-1].split(":")[0].split("/")[0])
OTP_WEBAUTHN_RP_NAME = env("WEBAUTHN_RP_NAME", "CAISI Review Portal")
OTP_WEBAUTHN_ALLOWED_ORIGINS = env_list("WEBAUTHN_ALLOWED_ORIGINS", SITE_URL)
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
if DEBUG:
    # Development serves http://127.0.0.1 and http://localhost, which browsers treat as secure.
    SILENCED_SYSTEM_CHECKS = ["otp_webauthn.E031"]
# CAISI staff who sign in with a password (not the staff provider) must hold a
# security key; TOTP codes remain a fallback second factor unless switched off.
STAFF_REQUIRE_WEBAUTHN = env_bool("STAFF_REQUIRE_WEBAUTHN", True)
TOTP_ALLOWED = env_bool("TOTP_ALLOWED", True)

# Content-Security-Policy: scripts and styles only from the portal's own static
# files, never inline; no framing. Swagger UI at /api/docs/ loads its init script
# as a file; its inline stylesheet is allowed on that page alone (caisi_portal/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        # Signing out may redirect to a provider's end-session endpoint.
        "form-action": ["'self'", *(p["issuer"] for p in SSO_PROVIDERS.values())],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "core.security_log.JsonLinesFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "security": {"class": "logging.StreamHandler", "formatter": "json"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        # In-process (eager) tasks would otherwise log every success.
        "celery.app.trace": {"level": "WARNING"},
        # Security events, one JSON object a line (caisi_portal/logging.py).
        "caisi.security": {"handlers": ["security"], "level": "INFO", "propagate": False},
        # Replaced by the JSON events above; axes' own lines would repeat them in prose.
        "axes": {"level": "WARNING"},
        # WeasyPrint narrates each step of every render at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # With no broker, Celery still builds a (never used) connection for each
        # in-process task, and kombu warns that it names no host.
        **({"kombu.connection": {"level": "ERROR"}} if CELERY_TASK_ALWAYS_EAGER else {}),
    },
}

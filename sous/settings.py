"""Sous settings. Every knob comes from the environment (django-environ), with safe defaults.

`.env.example` documents each variable; `make run` writes a `.env` for local development.
Misconfiguration is reported by system checks (`sous/checks.py`), not by crashing at import.
"""

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import environ

from sous import heartbeat as sous_heartbeat
from sous import logs as sous_logs
from sous import sentry as sous_sentry

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


def PROVIDER_DIRS(name: str) -> list[Path]:  # noqa: N802 - reads as the setting it feeds
    """providers/<key>/<name> of every provider package that has one (templates, static)."""
    return sorted(path for path in (BASE_DIR / "providers").glob(f"*/{name}") if path.is_dir())


def without_empty_assignments(variables: Mapping[str, str]) -> dict[str, str]:
    """The environment as settings read it. An empty assignment (`DATABASE_URL=`, as env files
    and container specs carry them) means "use the default": django-environ would take "" as
    the value, and an empty DATABASE_URL crashes, an empty ALLOWED_HOSTS refuses every request."""
    return {name: value for name, value in variables.items() if value != ""}


# The real environment wins over the file. SOUS_ENV_FILE names another file than BASE_DIR/.env.
environ.Env.read_env(os.environ.get("SOUS_ENV_FILE") or BASE_DIR / ".env", overwrite=False)
env = environ.Env()
env.ENVIRON = without_empty_assignments(os.environ)

# Used only when SECRET_KEY is unset; a system check refuses it outside DEBUG.
INSECURE_SECRET_KEY = "django-insecure-sous-development-only-never-use-in-production"  # noqa: S105

SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=False)

# The public origin of this deployment. OAuth redirect URIs are built from it, never from the
# request's Host header (a spoofed Host must not redirect a grant elsewhere).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://localhost:8000").rstrip("/")
_public = urlsplit(PUBLIC_BASE_URL)

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=sorted({_public.hostname or "localhost", "localhost", "127.0.0.1"})
)
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS", default=[f"{_public.scheme}://{_public.netloc}"]
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "django_celery_results",
    "channels",
    "sous",
    "sous.orgs",
    "sous.catalog",
    "sous.sales",
    "sous.documents",
    "sous.notifications",
    "integrations",
]

MIDDLEWARE = [
    # First: every later middleware's log lines carry the request id.
    "sous.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "sous.public_origin.PublicOriginMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "sous.orgs.middleware.CurrentOrganizationMiddleware",
    # After the organisation is known: its two-factor policy may send owners/admins to setup.
    "sous.orgs.mfa.RequireMFAMiddleware",
]

ROOT_URLCONF = "sous.urls"
WSGI_APPLICATION = "sous.wsgi.application"
ASGI_APPLICATION = "sous.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Each provider package owns its drawer sections' templates (providers/<key>/templates).
        "DIRS": [BASE_DIR / "templates", *PROVIDER_DIRS("templates")],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sous.orgs.context_processors.organization",
                "sous.notifications.bell.context",
            ],
        },
    },
]

# --- Database: SQLite for a quick local start, PostgreSQL via DATABASE_URL (CI, production).
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: wait for a lock rather than fail at once.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("timeout", 20)
    # Writers take the lock when their transaction begins, so a reader that later writes
    # waits for it instead of failing at once with "database is locked".
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    # Tests get a file too, not shared memory: worker threads then wait on locks instead of
    # failing with "table is locked", and worker processes can see the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and (
    DATABASE_POOL_SIZE := env.int("DATABASE_POOL_SIZE", default=0)
):
    # The web process (Procfile sets it there): a pool of connections (psycopg_pool, through
    # Django), so a request no longer opens a connection and PostgreSQL no longer starts a
    # backend for it, a third of what a webhook cost (bench/README.md). Under ASGI each request
    # runs in a thread of its own, so CONN_MAX_AGE cannot keep one. Workers and beat reuse
    # their own connection and run as many threads as the pool would need: no pool there.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DATABASE_POOL_SIZE,
        "timeout": 10,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker, channel layer and cache share one server.
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Every Redis client states its own timeouts. redis-py 8 gives a connection a 5 s read timeout
# by default, and the channel layer blocks for 5 s per read (channels_redis' BZPOPMIN): its
# reads timed out, and the web server closed every websocket. Connections idle for longer than
# the health-check interval are PINGed before reuse, and TCP keepalive finds a peer that vanished.
_REDIS_CONNECTION = {
    "socket_connect_timeout": 5,
    "socket_keepalive": True,
    "health_check_interval": 30,
}
# Clients that run short commands only (cache, job locks): a hung Redis fails them in seconds.
REDIS_CLIENT_OPTIONS = {**_REDIS_CONNECTION, "socket_timeout": 10}
# Clients that block on reads (channel layer 5 s, Celery's broker 1 s): reads outlast the wait.
REDIS_BLOCKING_READ_TIMEOUT = 30

CACHES = {
    "default": {
        "BACKEND": "sous.cache.ForgivingRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "sous",
        "OPTIONS": REDIS_CLIENT_OPTIONS,
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": REDIS_URL,
                    **_REDIS_CONNECTION,
                    "socket_timeout": REDIS_BLOCKING_READ_TIMEOUT,
                }
            ],
            "prefix": "sous:channels",
        },
    }
}

# --- Celery (see sous/celery.py). JSON only: a task message can never carry a pickled object.
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"integrations.*": {"queue": "integrations"}}
# A task not acknowledged within this window is redelivered (after a worker died). Beat's
# resume_orphaned_jobs usually sends a crashed worker's job again long before, once its job lock
# has lapsed. Sync tasks run in slices of INTEGRATIONS_TASK_SLICE_SECONDS and re-queue
# themselves from their checkpoint, so the window only has to outlast one slice and its last
# page. Should a page outlast it anyway, the job lock keeps the two deliveries from running the
# job at once.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=15 * 60),
    "global_keyprefix": env.str("CELERY_KEY_PREFIX", default=""),
    **_REDIS_CONNECTION,
    "socket_timeout": REDIS_BLOCKING_READ_TIMEOUT,
}
CELERY_TIMEZONE = "UTC"
# Beat sends a heartbeat to each queue this often; /healthz calls beat or a queue's workers
# stale once their last one is older than HEALTH_HEARTBEAT_MAX_AGE seconds.
HEALTH_HEARTBEAT_SECONDS = env.int("HEALTH_HEARTBEAT_SECONDS", default=30)
HEALTH_HEARTBEAT_MAX_AGE = env.int("HEALTH_HEARTBEAT_MAX_AGE", default=3 * 60)
CELERY_BEAT_SCHEDULE = {
    # Per-connection schedules (integrations/jobs/schedules.py): one tick a minute.
    "integrations-run-schedules": {"task": "integrations.run_schedules", "schedule": 60},
    "integrations-process-stale-webhook-events": {
        "task": "integrations.process_stale_webhook_events",
        "schedule": 60,
    },
    "integrations-refresh-tokens": {"task": "integrations.refresh_tokens", "schedule": 60 * 60},
    "integrations-renew-channels": {"task": "integrations.renew_channels", "schedule": 15 * 60},
    "integrations-check-freshness": {"task": "integrations.check_freshness", "schedule": 15 * 60},
    "notifications-send-pending-emails": {
        "task": "notifications.send_pending_emails",
        "schedule": 5 * 60,
    },
    # A dead worker's job is sent again within INTEGRATIONS_JOB_LOCK_SECONDS + this.
    "integrations-resume-orphaned-jobs": {
        "task": "integrations.resume_orphaned_jobs",
        "schedule": 15,
    },
    "integrations-resend-lost-jobs": {"task": "integrations.resend_lost_jobs", "schedule": 60},
    "integrations-reap-stale-jobs": {"task": "integrations.reap_stale_jobs", "schedule": 5 * 60},
    # /healthz's pulse of beat and of a worker on each queue (sous/heartbeat.py).
    **{
        f"sous-heartbeat-{queue}": {
            "task": sous_heartbeat.TASK,
            "schedule": HEALTH_HEARTBEAT_SECONDS,
            "args": (queue,),
            "options": {"queue": queue, "expires": HEALTH_HEARTBEAT_SECONDS},
        }
        for queue in sous_heartbeat.QUEUES
    },
}

# --- Accounts: email + password login, no public signup (admins invite staff).
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "sous.orgs.adapters.InviteOnlyAccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "integrations:index"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
# Days an emailed team invitation stays valid (Admin > Team); Resend issues a fresh link.
INVITATION_MAX_AGE_DAYS = env.int("INVITATION_MAX_AGE_DAYS", default=7)

# --- Two-factor sign-in (allauth.mfa): an authenticator app, with recovery codes as the
# fallback. An organisation can require it of its owners and admins (sous/orgs/mfa.py).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_ADAPTER = "sous.orgs.mfa.SousMFAAdapter"
# The account's name in the authenticator app; a staging deployment can say so.
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Sous")
# Accept the code of the neighbouring 30 s window too: phones' clocks drift. allauth still
# refuses a code that was already used (its cache, which is Redis here).
MFA_TOTP_TOLERANCE = 1

# --- Email (notifications, password resets): EMAIL_URL as django-environ reads it, e.g.
# smtp+tls://user:password@smtp.example.com:587. Development prints mails to the log.
EMAIL_URL_SET = "EMAIL_URL" in env
vars().update(
    env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Sous <sous@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Seconds: a stuck mail server must not hold a worker.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=15)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- HTTPS: a deployment whose PUBLIC_BASE_URL is https sends cookies over https only,
# redirects plain http to it, and tells browsers (HSTS) never to try http again.
_HTTPS = not DEBUG and _public.scheme == "https"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _HTTPS
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_HTTPS)
# A load balancer's health probe comes over plain http from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 60 * 60 if _HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Off, and its check (W021) silenced: anyone may submit a host that announces `preload` to
# browsers' preload lists, a commitment for the whole domain that its owner makes, not this app.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# --- Behind reverse proxies (load balancer, ingress) that terminate TLS: how many stand in
# front of Sous, each appending the address it saw to X-Forwarded-For. 0: none.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT:
    # The proxy tells whether the client came over https (it sets this header itself).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# allauth's rate limits (failed logins, password resets) count per client address: the one
# the outermost trusted proxy appended, which a client cannot forge. (So uvicorn reads no proxy
# headers, sous/gunicorn.py: it would put an X-Forwarded-For entry, which the client may have
# written itself, in REMOTE_ADDR, the address allauth counts when no proxy is declared.)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
SESSION_COOKIE_SAMESITE = "Lax"
# The Connect popup travels to the provider and back; "same-origin" would sever its
# window.opener on the way, and the callback page could not tell the grid it is done.
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin-allow-popups"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static", *PROVIDER_DIRS("static")]
# Where collectstatic (the Procfile's release) puts them, and the web process serves them from.
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "media/"
# Imported documents' content: files under MEDIA_ROOT, or an S3-compatible bucket when one is
# named, which workers on several machines then share. Nothing serves MEDIA_URL: staff
# download through sous.documents' view, which checks their organisation.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="")
_DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if AWS_STORAGE_BUCKET_NAME:
    _DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": _S3_ENDPOINT_URL or None,  # None: AWS itself
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            # None: boto3's own chain (instance role, ~/.aws) finds the credentials.
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            # Objects stay private (the bucket's policy applies); no URL to them is ever shown.
            "default_acl": None,
            # As on disk: a taken name gets a new one rather than overwriting another file.
            # (The importer deletes a retried page's identical copy first, so names are kept.)
            "file_overwrite": False,
            # S3-compatible stores (MinIO, Ceph, moto) want the bucket in the path, not in
            # the host name; AWS picks for itself.
            "addressing_style": env.str(
                "AWS_S3_ADDRESSING_STYLE", default="path" if _S3_ENDPOINT_URL else ""
            )
            or None,
        },
    }
STORAGES = {
    "default": _DEFAULT_STORAGE,
    # Outside DEBUG: hashed names, gzip and brotli copies (sous/staticfiles.py).
    "staticfiles": {
        "BACKEND": "sous.staticfiles.HashedCompressedStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Documents (recipes and invoices imported from Drive). Files larger than this are recorded
# as skipped, with the reason, and never downloaded (default 25 MB).
DOCUMENTS_MAX_FILE_BYTES = env.int("DOCUMENTS_MAX_FILE_BYTES", default=25 * 1024 * 1024)

# --- Integrations: when yesterday's sales must be in Sous (local hour at each location); a
# day later is amber on the card, more is red and an alert.
INTEGRATIONS_SALES_DUE_HOUR = env.int("INTEGRATIONS_SALES_DUE_HOUR", default=9)

# --- Integrations: the job machinery.
INTEGRATIONS_TASK_SLICE_SECONDS = env.int("INTEGRATIONS_TASK_SLICE_SECONDS", default=300)
# A running job's lock outlives a worker that died by at most this long (a live worker renews
# it every quarter of that): with beat's 15 s check, a killed worker's job resumes within 45 s.
INTEGRATIONS_JOB_LOCK_SECONDS = env.int("INTEGRATIONS_JOB_LOCK_SECONDS", default=30)
# A queued job whose task the broker no longer holds is sent again after this long.
INTEGRATIONS_LOST_JOB_SECONDS = env.int("INTEGRATIONS_LOST_JOB_SECONDS", default=120)

# --- Integrations: token encryption.
# Comma-separated base64 AES-256 keys. The first encrypts; every key decrypts (rotation).
INTEGRATIONS_ENCRYPTION_KEYS = env.list("INTEGRATIONS_ENCRYPTION_KEYS", default=[])

# --- Providers. `local` points a provider at the sandbox (python -m providers.sandbox).
PROVIDER_SANDBOX_URL = env.str("PROVIDER_SANDBOX_URL", default="http://127.0.0.1:8765").rstrip("/")

# Square: https://developer.squareup.com/docs/oauth-api/overview
SQUARE_ENVIRONMENT = env.str("SQUARE_ENVIRONMENT", default="local")
SQUARE_CLIENT_ID = env.str("SQUARE_CLIENT_ID", default="")
SQUARE_CLIENT_SECRET = env.str("SQUARE_CLIENT_SECRET", default="")
# The app's personal access token (Developer Dashboard > Credentials): Square's Events API
# takes no merchant's OAuth token. Without it the missed-notifications check does not run.
# The local sandbox takes its app's client secret instead, so it is not needed there.
SQUARE_APP_ACCESS_TOKEN = env.str("SQUARE_APP_ACCESS_TOKEN", default="")
# Webhooks: Square's subscriptions are made once per application (in the Developer Dashboard,
# or its Webhook Subscriptions API), each with a signature key. The keys of the app's
# subscription, comma-separated: the current one first; during a rotation the old one too.
SQUARE_WEBHOOK_SIGNATURE_KEYS = env.list("SQUARE_WEBHOOK_SIGNATURE_KEYS", default=[])
# The notification URL exactly as registered with Square: the signature covers it byte for
# byte, so it is never rebuilt from a request's Host header.
SQUARE_WEBHOOK_URL = env.str(
    "SQUARE_WEBHOOK_URL", default=f"{PUBLIC_BASE_URL}/integrations/webhooks/square"
)

# Google: https://developers.google.com/identity/protocols/oauth2/web-server
GOOGLE_ENVIRONMENT = env.str("GOOGLE_ENVIRONMENT", default="local")
GOOGLE_CLIENT_ID = env.str("GOOGLE_CLIENT_ID", default="")
GOOGLE_CLIENT_SECRET = env.str("GOOGLE_CLIENT_SECRET", default="")

# --- Logs (sous/logs.py): JSON lines for a log pipeline, or plain lines for a developer; both
# keep each record's extra fields (job, organisation, connection ids) and the request or task id.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json").lower()
LOGGING_CONFIG = "sous.logs.configure"
LOGGING = sous_logs.config(
    LOG_FORMAT if LOG_FORMAT in ("json", "plain") else "json",
    env.str("LOG_LEVEL", default="INFO"),
)

# --- Error reporting (sous/sentry.py): Sentry, only when SENTRY_DSN is set. Staff are told
# "we have been notified" only then (ERROR_REPORTING).
ERROR_REPORTING = sous_sentry.init(
    env.str("SENTRY_DSN", default=""),
    environment=env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"),
    release=env.str("SENTRY_RELEASE", default=""),
)

# In development the web process serves static files straight from the source folders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# Hashed names are cached for a year (whitenoise marks them immutable). A name without a hash
# may change at any deploy: five minutes.
WHITENOISE_MAX_AGE = 0 if DEBUG else 300

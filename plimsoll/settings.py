"""Plimsoll settings: one module, read from the environment, with safe defaults for the embedded mode.

Embedded mode (nothing set): SQLite under var/, a SECRET_KEY generated once into var/, Celery tasks run in-process.
Production: DATABASE_URL (PostgreSQL), CELERY_BROKER_URL (Redis), SECRET_KEY, DEBUG=0, ALLOWED_HOSTS.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PLIMSOLL_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)
# Counters that live in the web processes (ingest answers by code, compliance/metrics/ingest.py) are shared between
# gunicorn workers through files here; prometheus_client reads this before it is first imported.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(VAR_DIR / "prometheus"))
Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def _secret_key() -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        # Written once with owner-only permissions; O_EXCL so two processes starting together agree on one key.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(64))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # The admin site whose every add, change and deletion goes to the audit trail (audit/admin_site.py).
    "audit.admin_apps.AuditedAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "inventory",
    "frameworks",
    "compliance",
    "compliance.exceptions",
    "compliance.evidence",
    "audit",
    "compliance.posture",
    "compliance.reports",
    "compliance.administration",
    "compliance.dashboard",
    "compliance.imports",
    "csp",
    # Last: its login-failure receiver runs after the audit trail's (the order does not matter for either).
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "compliance.administration.middleware.AccountLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "common.middleware.PermissionsPolicyMiddleware",
    # Counts the answers to snapshot pushes by status code for /metrics.
    "compliance.metrics.ingest.IngestMetricsMiddleware",
    "csp.middleware.CSPMiddleware",
    # After CSP: marks browsable API pages so CSP allows DRF's one fixed style attribute there (by hash).
    "common.middleware.BrowsableAPIContentSecurityMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "plimsoll.urls"
WSGI_APPLICATION = "plimsoll.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'plimsoll.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
# A persistent connection cut while idle (database restart, failover) is replaced before the request uses it.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Server-side binding sends snapshot JSON as parameters instead of quoting megabytes of it in Python.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("server_side_binding", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several writers (the server and in-process tasks) wait for the lock rather than failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "compliance" / "static"]
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
# The embedded mode serves static files straight from the app directories, so no collectstatic is needed to start.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "login"
# Time-limited accounts: after their end date they cannot log in (the middleware ends open sessions, the API
# authentication refuses their token).
# django-axes' backend comes first: a locked-out user+address is refused before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "compliance.administration.backends.AccountLimitBackend",
]
LOGIN_REDIRECT_URL = "dashboard:overview"
LOGOUT_REDIRECT_URL = "login"

# Security: with DEBUG off the HTTPS-only flags are on (check --deploy is clean); `make run` serves plain HTTP on
# 127.0.0.1 and so sets PLIMSOLL_HTTPS=0.
HTTPS = env_bool("PLIMSOLL_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", HTTPS)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("PLIMSOLL_BEHIND_PROXY", False) else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Brute-force protection (django-axes, docs/security.md): after AXES_FAILURE_LIMIT failed logins for one username
# from one address, that pair is refused for AXES_COOLOFF_TIME hours, even with the right password; other users and
# other addresses are not affected. Failures while locked out do not extend the lockout. `manage.py axes_reset`
# (or axes_reset_username / axes_reset_ip) lifts it early.
AXES_ENABLED = env_bool("PLIMSOLL_AXES_ENABLED", True)
AXES_FAILURE_LIMIT = int(os.environ.get("PLIMSOLL_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("PLIMSOLL_LOGIN_COOLOFF_MINUTES", "15")) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# The address is REMOTE_ADDR, as for the audit trail; behind a proxy set PLIMSOLL_PROXY_COUNT to the number of
# trusted proxies in front of Plimsoll so the client's address is read from X-Forwarded-For.
if proxy_count := int(os.environ.get("PLIMSOLL_PROXY_COUNT", "0")):
    AXES_IPWARE_PROXY_COUNT = proxy_count
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
# Failed logins in the audit trail are bounded (audit/signals.py): per username+address and window, the failures
# before the lockout and one lockout event; per address and in all, at most these many rows per window.
PLIMSOLL_AUDIT_FAILED_LOGINS_PER_ADDRESS = int(os.environ.get("PLIMSOLL_AUDIT_FAILED_LOGINS_PER_ADDRESS", "50"))
PLIMSOLL_AUDIT_FAILED_LOGINS_MAX = int(os.environ.get("PLIMSOLL_AUDIT_FAILED_LOGINS_MAX", "500"))

# Content-Security-Policy (django-csp): no inline script or style anywhere; a library page that needs more is
# relaxed on that view alone (plimsoll/urls.py, docs/security.md).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# Snapshot ingest: the cap applies to the decompressed body, so a gzip bomb is refused, not inflated.
PLIMSOLL_MAX_SNAPSHOT_BYTES = int(os.environ.get("PLIMSOLL_MAX_SNAPSHOT_BYTES", str(64 * 1024 * 1024)))
# Django's own cap on a request body read into memory must admit the largest snapshot we accept.
DATA_UPLOAD_MAX_MEMORY_SIZE = PLIMSOLL_MAX_SNAPSHOT_BYTES
# Retention of snapshots in days; 0 keeps every snapshot forever (the default: snapshots are evidence).
PLIMSOLL_SNAPSHOT_RETENTION_DAYS = int(os.environ.get("PLIMSOLL_SNAPSHOT_RETENTION_DAYS", "0"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous API request then gets 401 with a WWW-Authenticate header, not 403.
        "compliance.administration.authentication.AccountLimitTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["common.roles.AnyRole"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "common.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "common.schema.AutoSchema",
    "EXCEPTION_HANDLER": "common.api_errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "common.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["common.throttles.RequestRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": os.environ.get("PLIMSOLL_THROTTLE_USER", "1200/min"),
        "agent": os.environ.get("PLIMSOLL_THROTTLE_AGENT", "6000/min"),
        "anon": os.environ.get("PLIMSOLL_THROTTLE_ANON", "120/min"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Plimsoll API",
    "DESCRIPTION": "Docker estate compliance: snapshots, CIS Docker v1.6.0 results, PCI DSS / HIPAA / GDPR posture.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "common.schema.postprocess_schema"],
    "ENUM_NAME_OVERRIDES": {
        "RequirementKindEnum": "frameworks.choices.Kind",
        "EvidenceKindEnum": "compliance.evidence.choices.EvidenceKind",
        "EvaluationStatusEnum": "inventory.choices.EvaluationStatus",
        "RequirementStatusEnum": "compliance.posture.choices.RequirementStatus",
        "ReportKindEnum": "compliance.reports.choices.ReportKind",
    },
}

# Celery: with no broker configured, tasks run in-process so the embedded mode needs no Redis.
PLIMSOLL_BROKER_CONFIGURED = bool(os.environ.get("CELERY_BROKER_URL"))
# The in-memory transport keeps kombu from looking for a broker on localhost when tasks run in-process.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not PLIMSOLL_BROKER_CONFIGURED
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# With the broker away, ingest must not wait on it: sending a task fails fast, the snapshot stays queued, and the
# sweeper below sends it once the broker is back. A task a dead worker held is redelivered after the visibility
# timeout (acks late), and the sweeper catches one the broker lost.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = 1
# max_retries 0: a publish with the broker away fails at once (without it kombu sleeps 2 s before a second attempt).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600, "socket_connect_timeout": 1, "socket_timeout": 5, "max_retries": 0}
# The worker reconnects for as long as the broker is away (Celery's default gives up after 100 attempts, ~46 min).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
PLIMSOLL_SWEEP_QUEUED_SECONDS = int(os.environ.get("PLIMSOLL_SWEEP_QUEUED_SECONDS", "60"))
PLIMSOLL_SWEEP_RUNNING_SECONDS = int(os.environ.get("PLIMSOLL_SWEEP_RUNNING_SECONDS", "300"))

# Daily housekeeping, run by `celery -A plimsoll beat` next to the worker.
CELERY_BEAT_SCHEDULE = {
    name: {"task": task, "schedule": crontab(hour=hour, minute=minute)}
    for name, task, hour, minute in [
        ("sweep-evaluations", "compliance.sweep_evaluations", "*", "*"),
        ("prune-snapshots", "inventory.prune_snapshots", 0, 10),
        ("delete-unreferenced-results", "compliance.delete_unreferenced_results", 0, 40),
        ("verify-evidence", "compliance.verify_evidence", 3, 30),
        ("prune-expired-reports", "compliance.reports.prune_expired_reports", 1, 0),
        ("record-daily-posture", "compliance.posture.record_daily_posture", 0, 30),
        ("exception-expiry-reminders", "compliance.exceptions.tasks.send_expiry_reminders", 6, 0),
        ("evidence-expiry-reminders", "compliance.evidence.tasks.send_evidence_expiry_reminders", 6, 5),
        ("flag-stale-exceptions", "compliance.exceptions.tasks.flag_stale_exceptions", 6, 10),
    ]
}

# Posture counts hosts, images and running containers; stopped containers are listed beside, unless this is on.
PLIMSOLL_POSTURE_INCLUDE_STOPPED = env_bool("PLIMSOLL_POSTURE_INCLUDE_STOPPED", False)

# Exceptions and evidence.
PLIMSOLL_EXCEPTION_MAX_DAYS = int(os.environ.get("PLIMSOLL_EXCEPTION_MAX_DAYS", "365"))
PLIMSOLL_EXCEPTION_STALE_DAYS = int(os.environ.get("PLIMSOLL_EXCEPTION_STALE_DAYS", "90"))
PLIMSOLL_EXPIRY_REMINDER_DAYS = tuple(int(d) for d in env_list("PLIMSOLL_EXPIRY_REMINDER_DAYS", ["30", "7", "1"]))
PLIMSOLL_EVIDENCE_MAX_BYTES = int(os.environ.get("PLIMSOLL_EVIDENCE_MAX_BYTES", str(20 * 1024 * 1024)))
# Evidence uploads arrive as multipart files and are streamed to disk past this size, not held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Reports: the organisation named on every cover; the PAdES signing key and certificate (PEM paths). Unset, a
# self-signed pair is generated once into var/ (the embedded mode). Generated reports are kept forever unless
# PLIMSOLL_REPORT_RETENTION_DAYS is set.
PLIMSOLL_ORGANISATION = os.environ.get("PLIMSOLL_ORGANISATION", "Plimsoll demo organisation")
PLIMSOLL_REPORT_SIGNING_KEY = os.environ.get("PLIMSOLL_REPORT_SIGNING_KEY", "")
PLIMSOLL_REPORT_SIGNING_CERT = os.environ.get("PLIMSOLL_REPORT_SIGNING_CERT", "")
PLIMSOLL_REPORT_RETENTION_DAYS = int(os.environ.get("PLIMSOLL_REPORT_RETENTION_DAYS", "0"))

# Monitoring: /metrics answers only a request bearing this token; unset, /metrics is off (404).
PLIMSOLL_METRICS_TOKEN = os.environ.get("PLIMSOLL_METRICS_TOKEN", "")

# Dashboard: a host with no snapshot for longer than this is stale.
PLIMSOLL_STALE_HOURS = int(os.environ.get("PLIMSOLL_STALE_HOURS", "26"))

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "plimsoll@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"denials_without_traceback": {"()": "compliance.dashboard.logs.DenialsWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django-axes logs every login at INFO; failures and lockouts (WARNING) are what matter.
        "axes": {"level": "WARNING"},
        # A refused request is logged in one line, not with a traceback for every denial.
        "django.request": {"filters": ["denials_without_traceback"]},
    },
}

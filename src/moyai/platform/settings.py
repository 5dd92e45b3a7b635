"""Django settings for moyai, read from the environment.

``MOYAI_ENV`` selects the profile: ``production`` (the default: every secret must be given,
cookies are HTTPS-only), ``demo`` (the README's first command) or ``test``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

from moyai.platform.paths import data_dir

ENV = os.environ.get("MOYAI_ENV", "production")
if ENV not in {"production", "demo", "test"}:
    raise RuntimeError(f"MOYAI_ENV must be production, demo or test, not {ENV!r}")

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = data_dir(os.environ, Path.cwd())


def _secret_key() -> str:
    key = os.environ.get("MOYAI_SECRET_KEY")
    if key:
        return key
    if ENV == "production":
        return ""  # refused below, with every other problem of the production settings
    # demo / test: a random key kept beside the demo database, so sessions survive restarts.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("MOYAI_DEBUG") == "1"
ALLOWED_HOSTS = os.environ.get("MOYAI_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "moyai.platform",
    "moyai.registry",
    "moyai.documents",
    "moyai.exchange",
    "moyai.tax.resident",
    "moyai.tax.addressees",
    "moyai.tax.property",
    "moyai.tax.light_vehicle",
    "moyai.operations.billing",
    "moyai.operations.backup",
    "moyai.disaster",
    "moyai.web",
]

MIDDLEWARE = [
    "moyai.platform.logging.RequestLogMiddleware",
    "moyai.operations.metrics.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "moyai.platform.middleware.TenantMiddleware",
]

ROOT_URLCONF = "moyai.web.urls"
WSGI_APPLICATION = "moyai.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "moyai.web.context_processors.shell",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
# SQLite by default (demo, development); PostgreSQL in production through MOYAI_DATABASE_URL.
# On PostgreSQL the web process runs as an application role that owns nothing and is subject to
# row-level security: either log in as that role, or log in as the owner and set
# MOYAI_DB_ASSUME_ROLE=1 so that every connection runs `SET ROLE <MOYAI_DB_APP_ROLE>`.
# Migrations (`moyai migrate`) always run as the owner (MOYAI_MIGRATE_DATABASE_URL if given).
_default_sqlite = f"sqlite:///{DATA_DIR / 'moyai.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("MOYAI_DATABASE_URL", _default_sqlite),
        # Seconds a web or worker process keeps its connection (0: one per request). The tenant
        # setting is transaction-local, so a kept connection carries nothing to the next request.
        conn_max_age=int(os.environ.get("MOYAI_DB_CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    ),
}
DB_APP_ROLE = os.environ.get("MOYAI_DB_APP_ROLE", "moyai_app")
if os.environ.get("MOYAI_TEST_DB_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["MOYAI_TEST_DB_NAME"]}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    if os.environ.get("MOYAI_DB_ASSUME_ROLE") == "1":
        DATABASES["default"].setdefault("OPTIONS", {})["assume_role"] = DB_APP_ROLE
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- authentication -------------------------------------------------------------------------
AUTH_USER_MODEL = "platform.StaffUser"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
OTP_TOTP_ISSUER = "moyai"

# Login throttling: five failures (password or one-time code) lock that account from that
# address for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "moyai.web.views.locked_out"
AXES_VERBOSE = False

# --- sessions, cookies, headers -------------------------------------------------------------
_https = ENV == "production"
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 60 * 60  # one working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_NAME = "moyai_session"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if _https:
    SECURE_SSL_REDIRECT = os.environ.get("MOYAI_SSL_REDIRECT", "1") == "1"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Probes and the metrics scrape reach the application servers directly over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("MOYAI_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# --- tasks ----------------------------------------------------------------------------------
# MOYAI_TASK_BACKEND: ``db`` (default: the task table in the database, ``moyai worker``) or
# ``rq`` (a Redis broker at MOYAI_REDIS_URL, workers on several machines: ``moyai rqworker``);
# a dotted backend path is taken as it is. See docs/operations.md.
_TASK_BACKENDS = {
    "db": "django_tasks_db.DatabaseBackend",
    "rq": "moyai.platform.broker.OnCommitRQBackend",
}
TASK_BACKEND = os.environ.get("MOYAI_TASK_BACKEND", "db")
TASK_QUEUES = os.environ.get("MOYAI_TASK_QUEUES", "default").split(",")
TASKS: dict[str, dict[str, object]] = {
    "default": {"BACKEND": _TASK_BACKENDS.get(TASK_BACKEND, TASK_BACKEND)}
}
if TASK_BACKEND == "rq":
    INSTALLED_APPS.append("django_rq")
    TASKS["default"]["QUEUES"] = TASK_QUEUES
    RQ_QUEUES = {
        name: {
            "URL": os.environ.get("MOYAI_REDIS_URL", "redis://127.0.0.1:6379/0"),
            "DEFAULT_TIMEOUT": int(os.environ.get("MOYAI_TASK_TIMEOUT", "3600")),
        }
        for name in TASK_QUEUES
    }

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"

# Logs: JSON lines on stderr in production (MOYAI_LOG_FORMAT=json|plain), one line per request
# from moyai.platform.logging.RequestLogMiddleware; never personal data (docs/operations.md).
LOG_FORMAT = os.environ.get("MOYAI_LOG_FORMAT", "json" if ENV == "production" else "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "moyai.platform.logging.RequestContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "moyai.platform.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("MOYAI_LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- metrics (Prometheus) -------------------------------------------------------------------
# /metrics answers only a bearer MOYAI_METRICS_TOKEN or a client address in MOYAI_METRICS_ALLOW
# (comma-separated addresses or networks); with neither configured it answers 404 to everybody.
# Several gunicorn workers share counters through PROMETHEUS_MULTIPROC_DIR
# (deploy/gunicorn.conf.py).
METRICS_TOKEN = os.environ.get("MOYAI_METRICS_TOKEN", "")
METRICS_ALLOW = [
    a.strip() for a in os.environ.get("MOYAI_METRICS_ALLOW", "").split(",") if a.strip()
]


# --- production refuses insecure defaults ---------------------------------------------------
def _production_problems() -> list[str]:
    problems = []
    if DEBUG:
        problems.append("MOYAI_DEBUG=1 は本番では使えません (DEBUG shows code and data on errors)")
    if not SECRET_KEY:
        problems.append("MOYAI_SECRET_KEY must be set: MOYAI_SECRET_KEY を設定してください")
    elif len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure"):
        problems.append("MOYAI_SECRET_KEY は 50 文字以上の乱数にしてください")
    if "MOYAI_ALLOWED_HOSTS" not in os.environ:
        problems.append("MOYAI_ALLOWED_HOSTS を設定してください (the public host names)")
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        problems.append("MOYAI_DATABASE_URL に PostgreSQL を指定してください (postgres://...)")
    for name in ("MOYAI_PII_KEYS", "MOYAI_DOCUMENT_KEY"):
        if not os.environ.get(name):
            problems.append(f"{name} を設定してください (id:base64 of 32 bytes)")
    if not os.environ.get("MOYAI_PII_INDEX_KEY"):
        problems.append("MOYAI_PII_INDEX_KEY を設定してください (base64 of 32 bytes)")
    if not os.environ.get("MOYAI_PUBLIC_URL", "").startswith("https://"):
        problems.append("MOYAI_PUBLIC_URL を https:// で設定してください (証明書の検証 URL)")
    if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
        problems.append("MOYAI_METRICS_TOKEN は 32 文字以上にしてください")
    return problems


if ENV == "production" and (_problems := _production_problems()):
    raise RuntimeError(
        "moyai refuses to start in production with insecure settings "
        "(本番環境の設定に問題があります; docs/operations.md):\n  - " + "\n  - ".join(_problems)
    )

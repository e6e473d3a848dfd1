"""The one settings module for linli, driven by environment variables.

Profiles: ``LINLI_ENV=development`` (default: SQLite, console SMS, debug off unless asked) and
``LINLI_ENV=production`` (refuses to start without ``LINLI_SECRET_KEY``, secure cookies, HSTS).
``DATABASE_URL`` switches from the embedded SQLite database to PostgreSQL.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from csp import constants as csp_constants
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


# --- typed environment helpers ------------------------------------------------------------------
def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str) -> dict[str, object]:
    """Parse ``postgres://user:pass@host:port/name?sslmode=..`` into a Django DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL scheme {parsed.scheme!r} is not supported (use postgres://)"
        )
    options: dict[str, object] = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    # psycopg's statement options, typed as Django passes them on: server-side parameter binding (the
    # statements can then be prepared) and after how many executions a statement is prepared.
    if "server_side_binding" in options:
        value = str(options["server_side_binding"]).lower()
        if value not in {"true", "false", "1", "0"}:
            raise ImproperlyConfigured("DATABASE_URL: server_side_binding must be true or false")
        options["server_side_binding"] = value in {"true", "1"}
    if "prepare_threshold" in options:
        try:
            options["prepare_threshold"] = int(str(options["prepare_threshold"]))
        except ValueError:
            raise ImproperlyConfigured("DATABASE_URL: prepare_threshold must be a whole number") from None
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")) or "linli",
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        "CONN_MAX_AGE": env_int("LINLI_DB_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
        "TEST": {"NAME": env_str("LINLI_TEST_DB_NAME", "") or None},
    }


# --- profile ------------------------------------------------------------------------------------
LINLI_ENV = env_str("LINLI_ENV", "development")
if LINLI_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("LINLI_ENV must be 'development' or 'production'")
PRODUCTION = LINLI_ENV == "production"

DEBUG = env_bool("LINLI_DEBUG", default=False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("LINLI_DEBUG must be off in production")

SECRET_KEY = env_str("LINLI_SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "LINLI_SECRET_KEY must be set in production (at least 50 random characters)"
        )
    # Development only: a per-checkout key kept outside the repository, created on first use.
    _key_file = BASE_DIR / "var" / "dev-secret-key"
    if _key_file.exists():
        SECRET_KEY = _key_file.read_text().strip()
    else:
        import secrets

        _key_file.parent.mkdir(parents=True, exist_ok=True)
        SECRET_KEY = secrets.token_urlsafe(64)
        _key_file.write_text(SECRET_KEY)
        _key_file.chmod(0o600)
elif PRODUCTION and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("LINLI_SECRET_KEY is too short (at least 50 characters)")

# Personal-data keys (linli.security.crypto): environment only, never the database or the repository.
# LINLI_DATA_KEYS="kid1:<base64 32 bytes>,kid2:<...>", LINLI_DATA_KEY_ID=kid2 (the one new values use),
# LINLI_BLIND_INDEX_KEY=<base64 32 bytes> (+ LINLI_BLIND_INDEX_KEY_PREVIOUS while re-indexing),
# LINLI_DATA_CIPHER=auto|sm4-gcm|aes-256-gcm (auto: SM4-GCM when this cryptography build has it).
LINLI_DATA_KEYS = env_str("LINLI_DATA_KEYS")
LINLI_DATA_KEY_ID = env_str("LINLI_DATA_KEY_ID")
LINLI_BLIND_INDEX_KEY = env_str("LINLI_BLIND_INDEX_KEY")
LINLI_BLIND_INDEX_KEY_PREVIOUS = env_str("LINLI_BLIND_INDEX_KEY_PREVIOUS")
LINLI_DATA_CIPHER = env_str("LINLI_DATA_CIPHER", "auto")
if not (LINLI_DATA_KEYS and LINLI_DATA_KEY_ID and LINLI_BLIND_INDEX_KEY):
    if PRODUCTION:
        raise ImproperlyConfigured(
            "LINLI_DATA_KEYS, LINLI_DATA_KEY_ID and LINLI_BLIND_INDEX_KEY must be set in production "
            "(see docs/security.md, 'Algorithm suite and key management')"
        )
    # Development only: per-checkout keys in var/ (gitignored, 0600), made once and never committed.
    import base64
    import json
    import secrets

    _data_key_file = BASE_DIR / "var" / "dev-data-keys.json"
    if not _data_key_file.exists():
        _data_key_file.parent.mkdir(parents=True, exist_ok=True)
        _tmp = _data_key_file.with_name(f".dev-data-keys.{secrets.token_hex(4)}")
        _fd = os.open(_tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(_fd, "w") as _out:
            json.dump(
                {
                    "LINLI_DATA_KEYS": "dev1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
                    "LINLI_DATA_KEY_ID": "dev1",
                    "LINLI_BLIND_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
                },
                _out,
            )
        try:  # link, not rename: when two processes race, the first file wins and both read it
            os.link(_tmp, _data_key_file)
        except FileExistsError:
            pass
        finally:
            os.unlink(_tmp)
    _dev_keys = json.loads(_data_key_file.read_text())
    LINLI_DATA_KEYS = LINLI_DATA_KEYS or _dev_keys["LINLI_DATA_KEYS"]
    LINLI_DATA_KEY_ID = LINLI_DATA_KEY_ID or _dev_keys["LINLI_DATA_KEY_ID"]
    LINLI_BLIND_INDEX_KEY = LINLI_BLIND_INDEX_KEY or _dev_keys["LINLI_BLIND_INDEX_KEY"]

# Audit-trail key (linli.security.audit, AUD-2): HMAC-SHA256 over each row of the hash chain. Environment
# only. LINLI_AUDIT_KEY="<id>:<base64, at least 32 bytes>[,<id>:<base64>...]": the first key signs new rows,
# the others still verify rows written before a rotation.
LINLI_AUDIT_KEY = env_str("LINLI_AUDIT_KEY")
if not LINLI_AUDIT_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "LINLI_AUDIT_KEY must be set in production (see docs/security.md, 'Audit trail')"
        )
    # Development only: a per-checkout key in var/ (gitignored, 0600), made once like the keys above.
    import base64
    import secrets

    _audit_key_file = BASE_DIR / "var" / "dev-audit-key"
    if not _audit_key_file.exists():
        _audit_key_file.parent.mkdir(parents=True, exist_ok=True)
        _tmp = _audit_key_file.with_name(f".dev-audit-key.{secrets.token_hex(4)}")
        _fd = os.open(_tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(_fd, "w") as _out:
            _out.write("dev1:" + base64.b64encode(secrets.token_bytes(32)).decode())
        try:  # link, not rename: when two processes race, the first file wins and both read it
            os.link(_tmp, _audit_key_file)
        except FileExistsError:
            pass
        finally:
            os.unlink(_tmp)
    LINLI_AUDIT_KEY = _audit_key_file.read_text().strip()
# Audit rows are kept at least this many days (AUD-3; 等保 asks for 6 months); the prune job deletes older.
LINLI_AUDIT_RETENTION_DAYS = env_int("LINLI_AUDIT_RETENTION_DAYS", 180)
if LINLI_AUDIT_RETENTION_DAYS < 180:
    raise ImproperlyConfigured(
        "LINLI_AUDIT_RETENTION_DAYS must be at least 180 (等保 keeps audit logs ≥ 6 months)"
    )
# The auditor screen's CSV/XLSX export refuses larger result sets (narrow the search instead).
LINLI_AUDIT_EXPORT_MAX_ROWS = env_int("LINLI_AUDIT_EXPORT_MAX_ROWS", 100_000)
# Where `manage.py backup` writes when no --output is given (REL-7).
LINLI_BACKUP_DIR = Path(env_str("LINLI_BACKUP_DIR", str(BASE_DIR / "var" / "backups")))

ALLOWED_HOSTS = env_list(
    "LINLI_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("LINLI_ALLOWED_HOSTS must be set in production")
CSRF_TRUSTED_ORIGINS = env_list("LINLI_CSRF_TRUSTED_ORIGINS", [])

# --- applications -------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # serves the OpenAPI docs UI from our own static files, not a CDN
    "template_partials",
    "django_tasks",  # backport of Django 6 Tasks (django.tasks after the upgrade)
    "django_tasks_db",  # the database queue: task rows commit with the business rows (app label django_tasks_database)
    "linli.core",
    "linli.accounts",
    "linli.places",
    "linli.patrols",
    "linli.party",
    "linli.needs",
    "linli.people",
    "linli.catalog",
    "linli.stations",
    "linli.bookings",
    "linli.workdays",
    "linli.notifications",
    "linli.security",
    "linli.cases",
    "linli.integrations",
    # Sign-in hardening (linli.security.signin): lockout, TOTP second factor with backup codes.
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # CSP (nonces) and the headers Django has no setting for; before WhiteNoise so static files get them too.
    "csp.middleware.CSPMiddleware",
    "linli.security.headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "linli.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle/absolute timeouts, the staff second factor and password expiry (linli.security.sessions).
    "linli.security.sessions.SessionPolicyMiddleware",
    # Audits a view's PermissionDenied and ScopeDenied (AUD-1: denials); the response is unchanged.
    "linli.security.denials.DenialAuditMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns a lockout flagged during authenticate() into our 429 answer (page or JSON); keep it last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "linli.urls"
WSGI_APPLICATION = "linli.wsgi.application"
ASGI_APPLICATION = "linli.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "linli" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "linli.core.context_processors.platform",
                "csp.context_processors.nonce",
            ],
        },
    }
]

# --- database -----------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES: dict[str, dict[str, object]] = {"default": database_from_url(DATABASE_URL)}
else:
    _sqlite_path = Path(env_str("LINLI_SQLITE_PATH", str(BASE_DIR / "var" / "linli.sqlite3")))
    _sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "linli.core.sqlite",  # Django's SQLite backend with a writer gate (see the module)
            "NAME": str(_sqlite_path),
            # Persistent connections: each thread keeps its connection, so the PRAGMAs below run once.
            "CONN_MAX_AGE": None,
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers queue on busy_timeout instead
                # of one failing with "database is locked" when it upgrades a read lock.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA busy_timeout=20000;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA temp_store=MEMORY;"
                    "PRAGMA cache_size=-64000;"
                ),
            },
            # In memory unless a file is asked for (named, as pytest-django only knows Django's engine name).
            "TEST": {"NAME": env_str("LINLI_TEST_SQLITE_PATH", "") or ":memory:"},
        }
    }

# Concurrent case submissions of a process share one transaction and COMMIT (linli.core.groupcommit):
# unset = on where the database has one writer (SQLite), off on PostgreSQL; 1/0 forces it.
LINLI_GROUP_COMMIT = env_bool("LINLI_GROUP_COMMIT") if os.environ.get("LINLI_GROUP_COMMIT") else None
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache --------------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "linli"}}

# --- accounts and sessions ----------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username + IP before any password is checked (AU-1).
    "linli.accounts.backends.LockoutBackend",
    "linli.accounts.backends.StaffPasswordBackend",
    "linli.accounts.backends.PhoneCodeBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:home"
# Staff password policy per 等保 (AU-6; the deviation from ASVS is in docs/security.md, "Sign-in").
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "linli.security.passwords.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "linli.security.passwords.UsernameNotInPasswordValidator"},
    {"NAME": "linli.security.passwords.PasswordHistoryValidator", "OPTIONS": {"keep": 5}},
]
# Days after which a staff password must be changed (0 = never). 等保 asks for periodic change; ASVS 5.0
# advises against it, so it is off unless the deployment's assessment requires it (e.g. 90).
LINLI_STAFF_PASSWORD_MAX_AGE_DAYS = env_int("LINLI_STAFF_PASSWORD_MAX_AGE_DAYS", 0)
# TOTP second factor for every staff account (AU-2). On by default in production; off in development so
# the demo logins stay one step. Residents sign in with an SMS code, which is already a possession factor.
LINLI_REQUIRE_STAFF_OTP = env_bool("LINLI_REQUIRE_STAFF_OTP", PRODUCTION)
OTP_TOTP_ISSUER = "linli"
# Session timeouts (AU-3), enforced by linli.security.sessions: idle = since the last request.
LINLI_STAFF_SESSION_IDLE_MINUTES = env_int("LINLI_STAFF_SESSION_IDLE_MINUTES", 15)
LINLI_STAFF_SESSION_MAX_HOURS = env_int("LINLI_STAFF_SESSION_MAX_HOURS", 12)
LINLI_RESIDENT_SESSION_IDLE_DAYS = env_int("LINLI_RESIDENT_SESSION_IDLE_DAYS", 7)
LINLI_RESIDENT_SESSION_MAX_DAYS = env_int("LINLI_RESIDENT_SESSION_MAX_DAYS", 30)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# The longest any session may live; each sign-in then sets its own absolute expiry (staff: 12 h).
SESSION_COOKIE_AGE = LINLI_RESIDENT_SESSION_MAX_DAYS * 86400
# Lockout (AU-1, django-axes): 5 failures for one username from one IP lock that pair only; another IP
# still signs in. The lock lifts after the cool-off (or `manage.py axes_reset_username <name>`).
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LINLI_LOCKOUT_COOLOFF_MINUTES", 30))
# Failures are forgotten only after the LAST factor passes (linli.security.signin.signin_completed), so a
# known password cannot reset the count while someone guesses second-factor codes.
AXES_RESET_ON_SUCCESS = False
AXES_HANDLER = "linli.security.signin.AuditingAxesHandler"  # every failure and lockout is audited
AXES_USERNAME_CALLABLE = "linli.security.signin.axes_username"  # phones are keyed by blind index
AXES_CLIENT_IP_CALLABLE = "linli.security.signin.client_ip"
AXES_LOCKOUT_CALLABLE = "linli.security.signin.lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are in the audit trail instead
AXES_VERBOSE = False  # no start-up banner in every manage.py run
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "phone", "sms_code", "otp_token", "token"]
# Trusted reverse proxies in front of the app (nginx = 1): the client IP is then taken from the
# X-Forwarded-For entry that many hops from the right. 0 = REMOTE_ADDR (no proxy, or embedded mode).
LINLI_TRUSTED_PROXY_COUNT = env_int("LINLI_TRUSTED_PROXY_COUNT", 0)
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-free meta tag; keep default
SMS_BACKEND = env_str("LINLI_SMS_BACKEND", "linli.accounts.sms.ConsoleSmsBackend")
# AU-5: a sign-in code lives at most 5 minutes. A longer setting is refused rather than clamped, so the
# value a deployment wrote down is the one in force; under a minute would expire before a resend is allowed.
SMS_CODE_TTL_SECONDS = env_int("LINLI_SMS_CODE_TTL", 300)
if not 60 <= SMS_CODE_TTL_SECONDS <= 300:
    raise ImproperlyConfigured(
        f"LINLI_SMS_CODE_TTL must be between 60 and 300 seconds (AU-5: codes live at most 5 minutes), "
        f"got {SMS_CODE_TTL_SECONDS}"
    )
SMS_CODE_MAX_TRIES = 5
API_TOKEN_TTL_HOURS = env_int("LINLI_API_TOKEN_TTL_HOURS", 12)

# --- background tasks ---------------------------------------------------------------------------
# The queue is a table in our own database: a task enqueued inside a transaction commits or rolls back
# with the business rows (QUALITY REL-2). Workers: `manage.py db_worker` (SKIP LOCKED on PostgreSQL).
TASKS = {
    "default": {
        "BACKEND": "linli.core.tasks_backend.DatabaseBackend",  # django-tasks-db, see the module
        "QUEUES": ["default"],
    }
}
# Delivery attempts per outbox message (SMS) before it is marked dead; with the backoff, 10 ≈ 3 hours.
LINLI_OUTBOX_MAX_ATTEMPTS = env_int("LINLI_OUTBOX_MAX_ATTEMPTS", 10)

# --- rate limits (CFG-2, linli.security.ratelimit) -----------------------------------------------
# Fixed windows counted with cache.add + cache.incr: atomic on Redis (REDIS_URL, needed as soon as more
# than one process serves) and on the per-process LocMemCache of the embedded single-process mode.
# Override one with LINLI_RATE_LIMITS="login=20/m,sms_code=30/h".
LINLI_RATE_LIMITS_ENABLED = env_bool("LINLI_RATE_LIMITS_ENABLED", True)
LINLI_RATE_LIMITS = {
    "login": "20/m",  # password, SMS-code and token sign-in attempts per IP (lockout is per username + IP)
    "otp": "10/m",  # second-factor attempts per IP
    "sms_code": "30/h",  # SMS sends per IP (per phone: 1/min, 10/day in accounts.services)
    "case_submit": "30/h",  # resident submissions per account (or IP when anonymous)
    "public_api": "120/m",  # anonymous reads, one budget per IP: locate, stations, 公示, 三清单, Open311
    "open311_write": "300/m",  # Open311 POSTs per IP (API-key clients: hotline bridges, other apps)
} | dict(item.split("=", 1) for item in env_list("LINLI_RATE_LIMITS", []))
RATELIMIT_USE_CACHE = "default"

# --- security headers ---------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Set by linli.security.headers.SecurityHeadersMiddleware (Django has no setting for these).
LINLI_PERMISSIONS_POLICY = "geolocation=(self), camera=(self), microphone=(), payment=(), usb=()"
LINLI_CROSS_ORIGIN_RESOURCE_POLICY = "same-origin"
# Content-Security-Policy (IO-4): no 'unsafe-inline', no 'unsafe-eval'. Inline <script> needs the
# per-request nonce ({{ CSP_NONCE }}); styles only from our files (scripts may set element.style, which CSP
# allows). A configured base-map tile server is the one other origin images may come from.
_tile = urlparse(env_str("LINLI_MAP_TILE_URL", ""))
# Leaflet's {s} subdomain placeholder becomes a CSP wildcard: "t{s}.tianditu.gov.cn" -> "*.tianditu.gov.cn".
_tile_host = ".".join("*" if "{" in label else label for label in _tile.netloc.split("."))
_tile_sources = [f"{_tile.scheme}://{_tile_host}"] if _tile.scheme in {"http", "https"} and _tile_host else []
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", csp_constants.NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", *_tile_sources],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("LINLI_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("LINLI_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "linli" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static files -------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("LINLI_STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns at every start when it is missing
STATICFILES_DIRS = [BASE_DIR / "linli" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env_str("LINLI_MEDIA_ROOT", str(BASE_DIR / "var" / "media")))

# --- logging ------------------------------------------------------------------------------------
LOG_LEVEL = env_str("LINLI_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Masks valid ID numbers and mainland mobiles in every record a handler emits (AUD-4).
    "filters": {"pii_mask": {"()": "linli.security.logging.PiiMaskingFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["pii_mask"]}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Replace Django's default handlers (unmasked console when DEBUG, runserver's access log): every
        # record goes through the masked root handler instead.
        "django": {"handlers": [], "level": "INFO"},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
    },
}

# --- linli --------------------------------------------------------------------------------------
LINLI_PLATFORM_NAME = _("邻里")
LINLI_DEMO_PASSWORD = env_str("LINLI_DEMO_PASSWORD", "linli-demo")
# How far (metres) outside every grid a point may be and still be given the nearest grid, flagged.
LINLI_LOCATE_TOLERANCE_M = env_int("LINLI_LOCATE_TOLERANCE_M", 200)
# Cases: days a reporter has to rate a resolved case before it closes automatically (the event says so).
LINLI_CASE_RATING_DAYS = env_int("LINLI_CASE_RATING_DAYS", 7)
# Patrols (linli.patrols): GPS tracks are deleted this many days after the patrol ends (PI-3); a patrol
# still open after LINLI_PATROL_MAX_HOURS is ended by the sweep at its last point.
LINLI_PATROL_RETENTION_DAYS = env_int("LINLI_PATROL_RETENTION_DAYS", 180)
LINLI_PATROL_MAX_HOURS = env_int("LINLI_PATROL_MAX_HOURS", 12)
# How often (seconds) a process re-reads the geometry version stamp to notice another process's edit.
LINLI_GEOMETRY_RECHECK_SECONDS = env_int("LINLI_GEOMETRY_RECHECK_SECONDS", 2)
API_MAX_PAGE_SIZE = 100
# Base-map tiles for the district map, e.g. 天地图 in production ("...{z}/{x}/{y}...&tk=KEY"). Empty by
# default: the map draws our own GeoJSON layers on a plain background and loads nothing from elsewhere.
LINLI_MAP_TILE_URL = env_str("LINLI_MAP_TILE_URL", "")
# The platform's public address (https://linli.example.gov.cn): printed in building QR codes, which stay on
# walls for years. Empty: the address the poster page was opened at.
LINLI_PUBLIC_BASE_URL = env_str("LINLI_PUBLIC_BASE_URL", "")
LINLI_MAP_TILE_ATTRIBUTION = env_str("LINLI_MAP_TILE_ATTRIBUTION", "")

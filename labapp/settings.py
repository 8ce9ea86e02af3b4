"""Settings for AWS Developer Lab.

Everything comes from the environment, with defaults that make a fresh clone run on one machine
(SQLite, Redis on localhost). Bad values fail loudly at start-up rather than half-working.
See README.md, "Configuration", for the full list.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false)")


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}")
    return value


# Runtime files (SQLite database, sockets, embedded broker queues) live here.
VAR_DIR = Path(env("LAB_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
PRODUCTION = env_bool("LAB_PRODUCTION", False)

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when LAB_PRODUCTION=1")
    # Development: a per-checkout key, kept so sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        key_file.write_text(get_random_secret_key())
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = [h for h in env("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "labapp.courses",
    "labapp.labs",
    "labapp.grading",
    "labapp.sandbox",
    "labapp.runner",
    "labapp.quizzes",
    "labapp.classroom",
    "labapp.web",
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
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "labapp.urls"
WSGI_APPLICATION = "labapp.wsgi.application"

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
                "django.template.context_processors.csp",
            ],
        },
    },
]

# SQLite by default; PostgreSQL (or anything dj-database-url knows) via DATABASE_URL.
# Web, worker and gateway all write, so SQLite runs in WAL mode with IMMEDIATE transactions
# and a generous busy timeout instead of failing with "database is locked".
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("LAB_SQLITE_PATH", str(VAR_DIR / "lab.sqlite3")),
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # The test database must be a file: the gateway and worker run as separate processes.
            # One per test run (pid), so two runs on one machine never share (and corrupt) a database.
            "TEST": {"NAME": env("LAB_TEST_SQLITE_PATH", str(VAR_DIR / f"test-{os.getpid()}.sqlite3"))},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2id (OWASP's first recommendation) hashes new passwords; sign-in verifies in a fraction of the time
# PBKDF2 took (labapp/web/hashers.py says why, bench/signin.py measures). The PBKDF2 hashers stay to verify
# passwords set before; Django re-hashes those with the first hasher when their owner signs in.
PASSWORD_HASHERS = [
    "labapp.web.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"

# Sign-in throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username from one
# address, that pair is locked out for the cool-off time. Username *and* address: a whole classroom behind
# one NAT address is not locked out by one learner's typos, and a guesser elsewhere cannot lock a learner
# out of their own machine.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LAB_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LAB_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
# Outside production, WhiteNoise serves straight from the source folders (no collectstatic step).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security -------------------------------------------------------------------------------
# Content Security Policy with per-request nonces (Django 6's built-in middleware).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie; harmless either way
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    if env("SECURE_PROXY_SSL_HEADER"):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [o for o in env("CSRF_TRUSTED_ORIGINS").split(",") if o]

# --- Celery ---------------------------------------------------------------------------------
# The database is the source of truth for every job; the broker only carries ids. Delivery is
# at-least-once (acks_late + reject_on_worker_lost) and every task claims its row atomically,
# so a duplicate delivery is a no-op and a worker killed mid-task gets its job re-run.
REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
# `manage.py runlab` chooses Redis or the embedded broker at start and records its choice here, so
# commands run beside it (`manage.py lab ...`) use the same broker.
BROKER_CHOICE_FILE = VAR_DIR / "run" / "broker-url"
CELERY_BROKER_URL = env("CELERY_BROKER_URL") or (
    BROKER_CHOICE_FILE.read_text().strip() if BROKER_CHOICE_FILE.exists() else REDIS_URL
)
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Embedded broker for machines without Redis: queues are folders under var/broker.
    _broker_dir = VAR_DIR / "broker"
    for sub in ("out", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "control_folder": str(_broker_dir / "control"),  # Kombu's default is ./control, in the checkout
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # Kombu polls the folder once a second by default: every console command then waited ~0.5 s (up to
        # 1 s) for a worker to notice it (bench/console_first_command.py). A folder listing is cheap.
        "polling_interval": 0.05,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than the hardest task time limit, so a slow task is never delivered twice while running.
        "visibility_timeout": 180,
        # Sweep for messages of dead workers every ~10 s instead of Kombu's default ~100 s.
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
    }
# One queue name for web, workers and tests; tests use a private one so a running `make run` never takes their jobs.
CELERY_TASK_DEFAULT_QUEUE = env("LAB_CELERY_QUEUE", "labapp")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 90
CELERY_WORKER_MAX_TASKS_PER_CHILD = 500
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE = {
    # Re-runs jobs whose worker died (lease expired) and re-enqueues jobs whose message was lost.
    "reap-stale-jobs": {"task": "labapp.labs.tasks.reap_stale_jobs", "schedule": 5.0},
    "expire-sessions": {"task": "labapp.labs.tasks.expire_sessions", "schedule": 30.0},
    "reap-stale-runs": {"task": "labapp.runner.tasks.reap_stale_runs", "schedule": 10.0},
    "release-handed-in-sandboxes": {"task": "labapp.labs.tasks.release_handed_in_sandboxes", "schedule": 3600.0},
}

# --- Sandboxes ------------------------------------------------------------------------------
# The gateway is the only listener learners' tools talk to. LAB_GATEWAY_URL is what the lab page
# shows learners (set it to the public address when serving other machines).
LAB_GATEWAY_HOST = env("LAB_GATEWAY_HOST", "127.0.0.1")
LAB_GATEWAY_PORT = env_int("LAB_GATEWAY_PORT", 4566)
LAB_GATEWAY_URL = env("LAB_GATEWAY_URL", f"http://{LAB_GATEWAY_HOST}:{LAB_GATEWAY_PORT}")
# The emulator listens on a Unix socket that only this user can open, inside a network
# namespace with no interfaces: nothing but the gateway reaches it, and it reaches nothing.
LAB_EMULATOR_SOCKET = env("LAB_EMULATOR_SOCKET", str(VAR_DIR / "run" / "emulator.sock"))
# Trusted platform code (setup, graders, resource panel) calls the gateway with the session's own
# credentials plus this token, so those calls are labelled and kept out of the learner's journal.
LAB_INTERNAL_TOKEN = env("LAB_INTERNAL_TOKEN") or __import__("hashlib").sha256(
    f"internal:{SECRET_KEY}".encode()
).hexdigest()
LAB_REGIONS = [r for r in env("LAB_REGIONS", "us-east-1,us-west-2").split(",") if r]
LAB_DEFAULT_REGION = LAB_REGIONS[0]
LAB_SESSION_MINUTES = env_int("LAB_SESSION_MINUTES", 120)
# How long a sandbox submitted for grading is kept for regrades (about 0.2 MB of emulator memory each).
LAB_SUBMISSION_RETENTION_DAYS = env_int("LAB_SUBMISSION_RETENTION_DAYS", 30)
LAB_GATEWAY_MAX_BODY = env_int("LAB_GATEWAY_MAX_BODY", 16 * 1024 * 1024)
LAB_GATEWAY_RATE_PER_SECOND = env_int("LAB_GATEWAY_RATE_PER_SECOND", 50)
LAB_GATEWAY_RATE_BURST = env_int("LAB_GATEWAY_RATE_BURST", 200)
# Each gateway connection holds a thread and a descriptor: beyond these the gateway answers 503 SlowDown
# and closes. The runner's relay reaches the gateway from 127.0.0.1 for every sandbox, so the per-address
# cap leaves room for several sandboxes (each capped by LAB_RUNNER_RELAY_MAX_CONNECTIONS).
LAB_GATEWAY_MAX_CONNECTIONS = env_int("LAB_GATEWAY_MAX_CONNECTIONS", 512, minimum=1)
LAB_GATEWAY_MAX_CONNECTIONS_PER_CLIENT = env_int("LAB_GATEWAY_MAX_CONNECTIONS_PER_CLIENT", 128, minimum=1)
# Seconds a client has to send a request's line and headers (a body gets this plus 1 s per 64 KiB).
LAB_GATEWAY_HEADER_TIMEOUT = env_int("LAB_GATEWAY_HEADER_TIMEOUT", 20, minimum=1)

# What one sandbox may keep in S3 (every version and pending multipart part counts): the emulator holds
# every learner's objects, in memory below 5 MiB each (labapp/sandbox/extensions/s3_quota.py).
LAB_SANDBOX_S3_QUOTA_MB = env_int("LAB_SANDBOX_S3_QUOTA_MB", 256, minimum=1)
LAB_SANDBOX_S3_MAX_OBJECTS = env_int("LAB_SANDBOX_S3_MAX_OBJECTS", 5000, minimum=1)
# The emulator refuses to start where it cannot be cut off from the network, unless this accepts the risk.
LAB_EMULATOR_ALLOW_NETWORK = env_bool("LAB_EMULATOR_ALLOW_NETWORK", False)

# --- `make run` (manage.py runlab) ------------------------------------------------------------
LAB_WEB_HOST = env("LAB_WEB_HOST", "127.0.0.1")
LAB_WEB_PORT = env_int("LAB_WEB_PORT", 8000, minimum=1)
LAB_WORKER_CONCURRENCY = env_int("LAB_WORKER_CONCURRENCY", 2, minimum=1)
LAB_DEMO_LEARNER_PASSWORD = env("LAB_DEMO_LEARNER_PASSWORD", "learn-aws-2026")
LAB_DEMO_INSTRUCTOR_PASSWORD = env("LAB_DEMO_INSTRUCTOR_PASSWORD", "teach-aws-2026")

# --- Jobs (provisioning, grading, regrades) ---------------------------------------------------
# How long a worker holds a job before another may take it over. A worker renews the lease while it
# works (see labapp/labs/services.py), so this bounds recovery after a worker dies, not the job's length.
LAB_JOB_LEASE_SECONDS = env_int("LAB_JOB_LEASE_SECONDS", 15, minimum=2)
# A queued job whose message has not been picked up for this long is enqueued again (lost message).
LAB_REQUEUE_AFTER_SECONDS = env_int("LAB_REQUEUE_AFTER_SECONDS", 20, minimum=1)

# --- Runner (learners' commands and scripts; labapp/runner/README.md) -------------------------
LAB_RUNNER_POOL_SIZE = env_int("LAB_RUNNER_POOL_SIZE", 2, minimum=0)  # warm sandboxes per worker process
LAB_RUNNER_DIR = Path(env("LAB_RUNNER_DIR", str(VAR_DIR / "runner")))
LAB_RUNNER_UID = env_int("LAB_RUNNER_UID", 65534, minimum=1)  # host uid sandboxes run as (when root)
# Where the sandboxes' relay connects; the gateway by default.
LAB_RUNNER_GATEWAY_HOST = env("LAB_RUNNER_GATEWAY_HOST", LAB_GATEWAY_HOST)
LAB_RUNNER_GATEWAY_PORT = env_int("LAB_RUNNER_GATEWAY_PORT", LAB_GATEWAY_PORT, minimum=1)
# Gateway connections one runner sandbox may hold open at once (a script opening thousands waits its turn).
LAB_RUNNER_RELAY_MAX_CONNECTIONS = env_int("LAB_RUNNER_RELAY_MAX_CONNECTIONS", 32, minimum=1)
# Rlimits only, no v1 cgroups (machines where they are not writable are detected anyway).
LAB_RUNNER_NO_CGROUPS = env_bool("LAB_RUNNER_NO_CGROUPS", False)

# Extra check-kind modules (dotted paths), imported by the check registry: for course authors' own kinds.
LAB_EXTRA_CHECK_MODULES = [m for m in env("LAB_EXTRA_CHECK_MODULES").split(",") if m]

COURSES_DIR = Path(env("LAB_COURSES_DIR", str(BASE_DIR / "courses")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # it logs every successful sign-in at INFO; lockouts are warnings
    },
}

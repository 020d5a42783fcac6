"""Django settings for kubeviz.

Every knob is an environment variable, read by the small helpers below, which fail loudly on a bad value. The
defaults are the embedded, nothing-to-install set-up: SQLite beside the project and the in-memory channel layer.
Point ``DATABASE_URL`` at PostgreSQL and set ``REDIS_URL`` to run several server processes.
"""

import ipaddress
import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name, default):
    return os.environ.get(name, default)


def env_bool(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false/1/0/yes/no/on/off), got {raw!r}")


def env_int(name, default, *, minimum=None):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name, default):
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_resource_list(name, default):
    """A ResourceQuota's ``hard`` limits: ``pods=1000,count/jobs.batch=200`` (``kubectl create quota --hard``'s
    form) or a JSON object; empty means none. Checked as the API server checks a quota's ``spec.hard``."""
    from apiserver.quota import HardLimitsError, parse_hard_limits

    raw = os.environ.get(name)
    try:
        return parse_hard_limits(default if raw is None else raw)
    except HardLimitsError as error:
        raise ImproperlyConfigured(f"{name} {error}") from None


def is_loopback(address: str) -> bool:
    """Whether a listening address is reachable from this machine only."""
    address = address.strip("[]")
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


#: The public development key of earlier versions: lesson cookies signed with it can be forged by anyone.
PUBLIC_KEYS = frozenset({"kubeviz-insecure-development-key-change-me"})


def weak_secret_key(key: str) -> bool:
    """Django's test for a key that is too weak (``security.W009``), or a key published in a repository."""
    return key in PUBLIC_KEYS or key.startswith("django-insecure-") or len(key) < 50 or len(set(key)) < 5


def installation_secret_key(path: Path) -> str:
    """This installation's own key: made once, from the system's random source, and kept at ``path`` (beside the
    database, readable by its owner only); every later start, and every process of the installation, reads it."""
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(50)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key + "\n")
    return key


DEBUG = env_bool("DEBUG", False)
# The address `make run` serves on: loopback by default (a laptop); anything else makes the server reachable from
# other machines, and then a weak SECRET_KEY is refused.
HOST = env_str("HOST", "127.0.0.1")
SECRET_KEY = env_str("SECRET_KEY", "") or installation_secret_key(
    Path(env_str("KUBEVIZ_SECRET_KEY_FILE", "") or BASE_DIR / "var" / "secret_key"))
if SECRET_KEY in PUBLIC_KEYS:
    raise ImproperlyConfigured("SECRET_KEY is the public development key of earlier versions, with which anyone can "
                               "forge this server's cookies: unset it (a key is then made for this installation) "
                               "or set a long random one")
if not is_loopback(HOST) and weak_secret_key(SECRET_KEY):
    raise ImproperlyConfigured(f"HOST={HOST} makes the server reachable from other machines, but SECRET_KEY is weak "
                               f"(fewer than 50 characters, or fewer than 5 different ones): set a long random one, "
                               f"e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(50))'")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "channels",
    "kubeviz.store",
    "kubeviz.runtime",
    "kubeviz.live",
    "kubeviz.lessons",
    "kubeviz.dashboard",
    "kubeviz.classroom",
    "kubeviz.recordings",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside the session and CSRF middleware, so that it sees their cookies: Secure over HTTPS.
    "kubeviz.classroom.middleware.secure_cookies_over_tls",
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Picks the dashboard's language: the language cookie set by the switcher, else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Teachers' logins and learners' sessions (classroom mode; laptop mode never touches a session).
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A body over DATA_UPLOAD_MAX_MEMORY_SIZE gets the API server's 413 Status, whatever the URL.
    "kubeviz.api.middleware.request_body_limit",
    # A page on another origin changes nothing (kubeviz/security.py): not through the Kubernetes API, and not
    # through anything else without the page's CSRF token.
    "kubeviz.security.cross_site_refusal",
    "kubeviz.security.csrf_for_browsers",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Classroom mode: nothing without a login or a capability (kubeviz/classroom/middleware.py).
    "kubeviz.classroom.middleware.classroom_authorization",
]
CSRF_FAILURE_VIEW = "kubeviz.security.csrf_failure"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# No inline script, nothing from elsewhere, never in a frame. Style attributes stay allowed: the timelines place
# their bars with them (style-src-attr); style sheets and scripts come from static/ only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# The Kubernetes API has no trailing slashes; never redirect to add one (kubectl would follow into HTML).
APPEND_SLASH = False

ROOT_URLCONF = "kubeviz.urls"
ASGI_APPLICATION = "kubeviz.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

_default_sqlite = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
# A request's thread keeps its connection for this long (seconds; kubeviz/serving.py lends threads to requests), and
# checks it is still usable before a request uses it again: connecting cost more than a poll's queries.
DATABASES = {"default": dj_database_url.parse(env_str("DATABASE_URL", _default_sqlite),
                                              conn_max_age=env_int("KUBEVIZ_CONN_MAX_AGE", 300, minimum=0),
                                              conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN so that two writers queue
    # on the busy timeout instead of failing with "database is locked" half-way through a transaction.
    # The same backend, with this process's writers served in turn (kubeviz/store/backends/sqlite3).
    DATABASES["default"]["ENGINE"] = "kubeviz.store.backends.sqlite3"
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": env_str("KUBEVIZ_TEST_DB", "") or None}

# PostgreSQL: at most this many connections per server process, shared by its requests (Django's pool); a request
# finding them all busy waits for one. Several processes must stay under the server's max_connections (100 by
# default) together. 0: a connection per request thread, as without a pool.
KUBEVIZ_DB_POOL = env_int("KUBEVIZ_DB_POOL", 0, minimum=0)
if KUBEVIZ_DB_POOL and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(2, KUBEVIZ_DB_POOL), "max_size": KUBEVIZ_DB_POOL, "timeout": 30}
    # The pool keeps the connections: a request gives its own back when it ends (a thread keeping one for
    # KUBEVIZ_CONN_MAX_AGE would hold it out of the pool, and Django refuses the two together).
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_redis_url = env_str("REDIS_URL", "")
if _redis_url:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # Every process of one deployment uses the same prefix; two deployments on one Redis, different ones.
            # A receive blocks in Redis for 5 s (channels_redis's BZPOPMIN): the socket must wait longer than that
            # (redis-py 8's default read timeout is 5 s too, and a quiet channel's receive then fails).
            "CONFIG": {"hosts": [{"address": _redis_url, "socket_timeout": 30}], "capacity": 10000,
                       "prefix": env_str("REDIS_PREFIX", "asgi")},
        }
    }
    # What every process must count together (the wrong class codes tried from one address): in the same Redis. A
    # count kept in each process's memory would give a guesser one allowance per process behind nginx.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis_url,
                          "KEY_PREFIX": env_str("REDIS_PREFIX", "asgi")}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 10000}}}
    # One process: its memory (Django's default cache).

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
USE_I18N = True
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

# Classroom mode (README "Running a class"): teachers log in, learners join a class with its code and a name and
# get sandboxes of their own; nothing is reachable without a login or a capability. Off: the open laptop mode.
KUBEVIZ_CLASSROOM = env_bool("KUBEVIZ_CLASSROOM", False)
# A sandbox nobody used for this long is paused (no engine work); one unused for this long is deleted (0: never).
KUBEVIZ_IDLE_PAUSE_SECONDS = env_int("KUBEVIZ_IDLE_PAUSE_SECONDS", 20 * 60, minimum=60)
KUBEVIZ_IDLE_DELETE_SECONDS = env_int("KUBEVIZ_IDLE_DELETE_SECONDS", 7 * 24 * 3600, minimum=0)
# Wrong join codes one client address may try per 10 minutes before joins from it are refused for a while (a
# code is 6 letters of 31: guessing one takes hundreds of millions of tries). A class behind one school router
# shares an address: keep it well above a class's typos. Behind a proxy, run daphne with --proxy-headers.
KUBEVIZ_JOIN_FAILURES = env_int("KUBEVIZ_JOIN_FAILURES", 100, minimum=1)
# The teacher's live grid shows a learner as stuck once they have been on one step this many minutes.
KUBEVIZ_STUCK_MINUTES = env_int("KUBEVIZ_STUCK_MINUTES", 5, minimum=1)
# How much history each cluster keeps (its changes, compacted like etcd's, and its controllers' traces): at least
# the last KUBEVIZ_HISTORY_CHANGES changes and every change of the last KUBEVIZ_HISTORY_SECONDS simulated seconds
# is kept; older ones are compacted away (reads at those revisions answer 410 Expired).
KUBEVIZ_HISTORY_CHANGES = env_int("KUBEVIZ_HISTORY_CHANGES", 20_000, minimum=10)
KUBEVIZ_HISTORY_SECONDS = env_int("KUBEVIZ_HISTORY_SECONDS", 24 * 3600, minimum=0)
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/teach/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Session and CSRF cookies are HttpOnly (the session's) and SameSite=Lax, and Secure on every request that came
# over HTTPS (kubeviz/classroom/middleware.py); SESSION_COOKIE_SECURE=true makes them Secure always. Behind an
# HTTPS proxy, SECURE_PROXY_SSL_HEADER names the header it sets to "https" (e.g. X-Forwarded-Proto).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
_proxy_header = env_str("SECURE_PROXY_SSL_HEADER", "")
if _proxy_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")

# Manifests are small; a bigger body is refused with a 413 Status before it is parsed. Any request body is
# limited as the API server limits them (3 MiB, its MaxRequestBodyBytes).
KUBEVIZ_MAX_MANIFEST_BYTES = env_int("KUBEVIZ_MAX_MANIFEST_BYTES", 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(KUBEVIZ_MAX_MANIFEST_BYTES, 3 * 1024 * 1024)
# The largest recording (``POST /sim/recordings``, ``manage.py simulate --recording``) that is read; a larger one is
# refused (413) before a cluster is made. Only that endpoint takes a body past the limit above.
KUBEVIZ_MAX_RECORDING_BYTES = env_int("KUBEVIZ_MAX_RECORDING_BYTES", 8 * 1024 * 1024, minimum=1024)
RECORDINGS_PATH = "/sim/recordings"

# Whether this process plays unpaused clusters in real time (tests that drive the clock by hand turn it off).
KUBEVIZ_PLAYER = env_bool("KUBEVIZ_PLAYER", True)

# Several server processes on one PostgreSQL database (README "Serving a class from several processes or machines"):
# each cluster's engine runs only in the process holding its lease (kubeviz/runtime/lease.py), which renews it every
# third of KUBEVIZ_LEASE_SECONDS; once it has expired (its process died) another process takes it over. On with
# PostgreSQL; SQLite is served by one process, which needs no lease.
KUBEVIZ_LEASES = env_bool("KUBEVIZ_LEASES", DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql")
KUBEVIZ_LEASE_SECONDS = env_int("KUBEVIZ_LEASE_SECONDS", 15, minimum=1)
# With leases: whether this process runs engines (the default), or is a web process that serves requests and sends
# what drives an engine to the engine processes (deploy/serve_class.py --engines). A web process takes a cluster's
# lease itself only while no engine process is alive, and gives it up once one is.
KUBEVIZ_ENGINES = env_bool("KUBEVIZ_ENGINES", True)

# How many wall seconds a clock advance request runs before it answers 202 with its progress and goes on in the
# background (a request may ask for less or more with "wait", up to KUBEVIZ_ADVANCE_MAX_WAIT).
KUBEVIZ_ADVANCE_WAIT = env_int("KUBEVIZ_ADVANCE_WAIT", 10, minimum=0)
KUBEVIZ_ADVANCE_MAX_WAIT = env_int("KUBEVIZ_ADVANCE_MAX_WAIT", 300, minimum=0)

# The kubectl binary the dashboard's console runs against the server's own clusters.
KUBEVIZ_KUBECTL = env_str("KUBEVIZ_KUBECTL", "/usr/bin/kubectl")
# The unprivileged user the console runs kubectl as when the server runs as root.
KUBEVIZ_CONSOLE_USER = env_str("KUBEVIZ_CONSOLE_USER", "nobody")

# Worker nodes of the `default` cluster that `make run` creates.
KUBEVIZ_DEFAULT_NODES = env_int("KUBEVIZ_DEFAULT_NODES", 3, minimum=0)

# Limits Kubernetes has no object for. Workers a cluster may have (at its creation and as nodes join: 422 and 403),
# kubectl commands the console runs at once per cluster and in this process (429), live streams (websockets) one
# client address may hold open at once (closed with 4429).
KUBEVIZ_MAX_NODES = env_int("KUBEVIZ_MAX_NODES", 5000, minimum=0)
KUBEVIZ_CONSOLE_PER_CLUSTER = env_int("KUBEVIZ_CONSOLE_PER_CLUSTER", 2, minimum=1)
KUBEVIZ_CONSOLE_MAX_RUNNING = env_int("KUBEVIZ_CONSOLE_MAX_RUNNING", 8, minimum=1)
KUBEVIZ_MAX_WEBSOCKETS_PER_CLIENT = env_int("KUBEVIZ_MAX_WEBSOCKETS_PER_CLIENT", 50, minimum=1)

# The ResourceQuota every new cluster gets in its `default` namespace (kubectl describe quota sandbox): generous
# for a laptop, a bound for a shared server. Empty: none.
KUBEVIZ_DEFAULT_QUOTA = env_resource_list(
    "KUBEVIZ_DEFAULT_QUOTA", "pods=1000,count/jobs.batch=200,count/cronjobs.batch=50,count/daemonsets.apps=50")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}

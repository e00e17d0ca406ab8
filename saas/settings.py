"""Settings for every environment. Production differs by environment values, not code paths."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from saas.env import env_bool, env_int, env_keys, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("VERTROUWD_DATA_DIR", str(BASE_DIR / ".data"))).resolve()

DEBUG = env_bool("DEBUG", False)
TESTING = env_bool("VERTROUWD_TESTING", False)

_dev_secret = "dev-only-insecure-secret-key-do-not-use-in-production-0123456789"  # noqa: S105
SECRET_KEY = env_secret("SECRET_KEY") or (_dev_secret if (DEBUG or TESTING) else None)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) is required when DEBUG is off.")

# Master key of the envelope encryption (tenants.crypto); required outside development and tests.
# Every key is decoded here, at start (tenants.crypto reads them with the same function): a
# malformed or short key stops the process with its name instead of failing the first encryption.
if not env_keys("MASTER_KEY", "MASTER_KEY_PREVIOUS") and not (DEBUG or TESTING):
    raise ImproperlyConfigured("MASTER_KEY (or MASTER_KEY_FILE) is required when DEBUG is off.")
# How long a process uses a client's data keys before reading them again (tenants.crypto). After a
# data-key rotation a process writes under the old key for at most this long, so
# `rotate_keys --purge-retired` waits twice this; every process must have the same value.
DATA_KEY_CACHE_SECONDS = env_int("DATA_KEY_CACHE_SECONDS", 300, minimum=1)

# Console on the base domain, client organisations on <client>.<firm>.<base domain>.
# `vertrouwd.localhost` works in browsers without editing /etc/hosts (*.localhost is loopback).
BASE_DOMAIN = (env_str("BASE_DOMAIN", "vertrouwd.localhost") or "").lower()
PUBLIC_SCHEME = env_str("PUBLIC_SCHEME", "http")
PUBLIC_PORT = env_str("PUBLIC_PORT", "8000" if DEBUG else "")
ALLOWED_HOSTS = [BASE_DOMAIN, f".{BASE_DOMAIN}", *env_list("EXTRA_ALLOWED_HOSTS", [])]

# One sign-in for the console and every client organisation's host.
SESSION_COOKIE_DOMAIN = f".{BASE_DOMAIN}"
CSRF_COOKIE_DOMAIN = f".{BASE_DOMAIN}"
# An Origin header carries the port: without the port variants, the sign-out form on a client
# host (posting to the console host) fails the CSRF check on a development server's port.
_origin_ports = ["", f":{PUBLIC_PORT}"] if PUBLIC_PORT else [""]
CSRF_TRUSTED_ORIGINS = [
    f"{scheme}://{host}{port}"
    for scheme in ("http", "https")
    for host in (BASE_DOMAIN, f"*.{BASE_DOMAIN}")
    for port in _origin_ports
]
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
# Proxies in front of the app that append to X-Forwarded-For (the chart's ingress: one); the
# rate limits read the client's address from there (accounts.ratelimit.client_address).
TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 1 if BEHIND_TLS_PROXY else 0, minimum=0)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
# same-origin: links to outside never reveal which client organisation (host) they came from.
# Under it a cross-host POST carries "Origin: null", so every form posts to its own host
# (each host has its own sign-out, saas/urls_tenant.py).
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response (django-csp): nothing loads from, posts to or connects
# to another origin, no inline script, no inline style, no framing; so no library we ship (or
# ship later) can phone home. Forms may also go to the platform's own hosts, because a sign-in
# on the console redirects to a client's host and browsers check form-action on that redirect;
# the billing page adds Stripe for its checkout and portal buttons (billing/views.py).
_OWN_HOSTS = [f"{BASE_DOMAIN}:*", f"*.{BASE_DOMAIN}:*"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'", *_OWN_HOSTS],
        "frame-ancestors": ["'none'"],
        "frame-src": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
    }
}
# Permissions-Policy on every response (saas.headers): no page needs a camera, a microphone,
# a location, payment or sensors.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), "
    "fullscreen=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), "
    "payment=(), publickey-credentials-get=(), screen-wake-lock=(), serial=(), usb=(), "
    "xr-spatial-tracking=(), interest-cohort=()"
)

SHARED_APPS = [
    "django_tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django.contrib.humanize",
    # django-otp only here: listed in TENANT_APPS too, the tenant copy would hide the public table.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_celery_beat",
    "accounts",
    "tenants",
    "billing",
    "signup",
    "reports",
    "workindex",
    "sparring.public",  # sparring's content-free index, preferences and digest notices
    "credentials",  # advisers' credentials and internal advisers' appointments
    "intake.public",  # intake's adviser cards, short links and content-free index
    "mail",  # the e-mail outbox: every e-mail is a row here first (mail.outbox)
]
TENANT_APPS = [
    "audit",
    "cases",
    "sparring",
    "boardroom",
    "thirdparty",  # Belgium: the register of acts by third parties
    "intake",
]
INSTALLED_APPS = list(dict.fromkeys(SHARED_APPS + TENANT_APPS))

TENANT_MODEL = "tenants.ClientOrganisation"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "saas.urls_public"
ROOT_URLCONF = "saas.urls_tenant"
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
# Set search_path once per schema switch instead of before every statement (halves round trips).
# Safe because nothing else changes search_path outside a transaction (provisioning uses SET LOCAL);
# it would not be safe behind a transaction-pooling PgBouncer, which we do not use.
TENANT_LIMIT_SET_CALLS = True
TENANT_ROUTING_CACHE_SECONDS = env_int("TENANT_ROUTING_CACHE_SECONDS", 300, minimum=1)
# Client schemas cloned in advance (tenants.schema_pool): creating a client claims one in
# milliseconds instead of cloning the template. 0 turns the pool off (every creation clones).
SCHEMA_POOL_SIZE = env_int("SCHEMA_POOL_SIZE", 10, minimum=0)

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

MIDDLEWARE = [
    "saas.health.HealthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "saas.headers.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tenants.middleware.TenantRoutingMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "saas.guards.RequestGuardMiddleware",  # charset, size and NUL, before anything parses a body
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.sessions.SessionGenerationMiddleware",  # removal ends sessions; no-store
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tenants.middleware.AccessMiddleware",
    "billing.middleware.SubscriptionAccessMiddleware",  # read-only when the subscription lapsed
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "saas.context_processors.navigation",
            ],
            # `local_date` in every template without a load tag (saas/templatetags/dates.py).
            "builtins": ["saas.templatetags.dates"],
        },
    }
]

WSGI_APPLICATION = "saas.wsgi.application"
ASGI_APPLICATION = "saas.asgi.application"

# Database: DATABASE_URL when set; otherwise an embedded PostgreSQL under DATA_DIR.
_database_url = env_str("DATABASE_URL")
if _database_url:
    DATABASES = {
        "default": dj_database_url.parse(_database_url, conn_max_age=env_int("CONN_MAX_AGE", 60))
    }
    DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
else:
    from saas.embedded_db import embedded_database

    DATABASES = {"default": embedded_database(DATA_DIR)}
    DATABASES["default"]["CONN_MAX_AGE"] = 60
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("TEST", {})["NAME"] = env_str(
    "TEST_DATABASE_NAME", "test_vertrouwd"
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache and broker: Redis when REDIS_URL is set; in-process otherwise.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_FUNCTION": "django_tenants.cache.make_key",  # per-tenant data never under a global key
        },
        "routing": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "routing",
        },
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_FUNCTION": "django_tenants.cache.make_key",
        },
        "routing": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "routing",
        },
    }

CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
# Figures of a closed quarter are released once, this many days after it ended (late entries).
RELEASE_GRACE_DAYS = env_int("RELEASE_GRACE_DAYS", 14, minimum=0)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "vertrouwd")
CELERY_TASK_TENANT_CACHE_SECONDS = 60
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Periodic work is defined here, in code; the database scheduler installs it at start.
CELERY_BEAT_SCHEDULE = {
    "cases-retention": {
        "task": "cases.tasks.retention_dispatch",
        "schedule": crontab(hour=3, minute=15),
    },
    "cases-deadline-reminders": {
        "task": "cases.tasks.deadline_reminders_send",
        "schedule": crontab(hour=7, minute=0),
    },
    "reports-rollup-nightly": {
        "task": "reports.tasks.rollup_nightly",
        "schedule": crontab(hour=2, minute=30),
    },
    "reports-releases-nightly": {
        "task": "reports.tasks.releases_nightly",
        "schedule": crontab(hour=2, minute=45),
    },
    "reports-signal-reminders": {
        "task": "reports.tasks.signal_reminders_dispatch",
        "schedule": crontab(hour=7, minute=30),
    },
    "sparring-digest": {
        "task": "sparring.tasks.digest_send",
        "schedule": crontab(hour=7, minute=30),
    },
    "mail-outbox-sweep": {
        "task": "mail.tasks.email_sweep",
        "schedule": crontab(minute="*/2"),
    },
    "mail-outbox-prune": {
        "task": "mail.tasks.email_prune",
        "schedule": crontab(hour=4, minute=30),
    },
    "billing-subscriptions-reconcile": {
        "task": "billing.tasks.subscriptions_reconcile",
        "schedule": crontab(hour=4, minute=0),
    },
    "thirdparty-register-retention": {
        "task": "thirdparty.tasks.register_retention_dispatch",
        "schedule": crontab(hour=3, minute=30),
    },
    "credentials-reminders": {
        "task": "credentials.tasks.reminders_send",
        "schedule": crontab(hour=7, minute=15),
    },
    # Ready client schemas (tenants.schema_pool): replaced after a deploy, topped up if a
    # refill after a creation was lost.
    "tenants-schema-pool-refill": {
        "task": "tenants.tasks.schema_pool_refill",
        "schedule": crontab(minute="*/5"),
    },
    "tenants-themes-reconcile": {
        "task": "tenants.tasks.themes_reconcile",
        "schedule": crontab(hour=2, minute=0),
    },
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if not REDIS_URL and not TESTING:
    logging.getLogger("vertrouwd").warning("No REDIS_URL: background tasks run in-process.")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600
# Sign-in rate limits: failures per window before refusing further attempts.
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 5, minimum=1)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 20, minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60, minimum=1)
# Password-reset e-mails asked for, per address typed and per client address, in an hour.
PASSWORD_RESETS_PER_EMAIL = env_int("PASSWORD_RESETS_PER_EMAIL", 3, minimum=1)
PASSWORD_RESETS_PER_ADDRESS = env_int("PASSWORD_RESETS_PER_ADDRESS", 10, minimum=1)
PASSWORD_RESET_WINDOW_SECONDS = env_int("PASSWORD_RESET_WINDOW_SECONDS", 3600, minimum=60)
# import_client: an export may unpack to this many times its file size (at least the minimum);
# more is refused while reading, before it fills the disk.
IMPORT_MAX_UNPACKED_RATIO = env_int("IMPORT_MAX_UNPACKED_RATIO", 50, minimum=1)
IMPORT_MIN_UNPACKED_BYTES = env_int("IMPORT_MIN_UNPACKED_BYTES", 64 * 1024 * 1024, minimum=1)

OTP_TOTP_ISSUER = "Vertrouwd"
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_DOMAIN = f".{BASE_DOMAIN}"
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Overridable so a read-only image can carry the collected files anywhere (Dockerfile).
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")) or "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if (DEBUG or TESTING)
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# Billing (billing/, docs/stripe.md): keys and prices from the environment, never from code.
STRIPE_SECRET_KEY = env_secret("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = env_secret("STRIPE_WEBHOOK_SECRET", "")
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env_int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300, minimum=1)
STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 2, minimum=0)
STRIPE_PRICE_PER_CLIENT = env_str("STRIPE_PRICE_PER_CLIENT", "")  # price id, per client per month
STRIPE_PRICE_TIERS = env_str("STRIPE_PRICE_TIERS", "")  # optional "10:price_a,50:price_b,:price_c"
BILLING_TRIAL_DAYS = env_int("BILLING_TRIAL_DAYS", 30, minimum=0)
BILLING_PAST_DUE_GRACE_DAYS = env_int("BILLING_PAST_DUE_GRACE_DAYS", 14, minimum=0)
BILLING_QUANTITY_SYNC_DELAY_SECONDS = env_int("BILLING_QUANTITY_SYNC_DELAY_SECONDS", 60, minimum=1)
# A firm's default annual fee per client by employee count: "upper bound:EUR", last unbounded.
BILLING_CLIENT_FEE_TIERS = env_str(
    "BILLING_CLIENT_FEE_TIERS", "10:150,50:350,100:600,250:1000,:1500"
)

# Self-service sign-up of firms (signup/): open in development, closed in production unless
# switched on, because opening it is a business decision (terms, processing agreement, price).
SIGNUP_OPEN = env_bool("SIGNUP_OPEN", DEBUG)
# The terms of use and processing agreement a firm accepts; recorded with each acceptance, so a
# URL that names the version (".../terms-2025-06.pdf") records which text was accepted.
SIGNUP_TERMS_URL = env_str("SIGNUP_TERMS_URL", "") or ""
if SIGNUP_OPEN and not (DEBUG or TESTING) and not SIGNUP_TERMS_URL:
    raise ImproperlyConfigured("SIGNUP_OPEN needs SIGNUP_TERMS_URL: the terms a firm accepts.")
# Sign-ups per client address and per e-mail address in a window (refused input does not count).
SIGNUP_ATTEMPTS_PER_ADDRESS = env_int("SIGNUP_ATTEMPTS_PER_ADDRESS", 5, minimum=1)
SIGNUP_ATTEMPTS_PER_EMAIL = env_int("SIGNUP_ATTEMPTS_PER_EMAIL", 3, minimum=1)
SIGNUP_ATTEMPT_WINDOW_SECONDS = env_int("SIGNUP_ATTEMPT_WINDOW_SECONDS", 3600, minimum=60)

# Employee intake (intake/): receipt-key guessing limits, counted per key and per client (never
# per address), and a ceiling on new contacts per client per hour.
INTAKE_KEY_FAILURES_PER_KEY = env_int("INTAKE_KEY_FAILURES_PER_KEY", 5, minimum=1)
INTAKE_KEY_FAILURES_PER_CLIENT = env_int("INTAKE_KEY_FAILURES_PER_CLIENT", 100, minimum=1)
INTAKE_KEY_FAILURE_WINDOW_SECONDS = env_int("INTAKE_KEY_FAILURE_WINDOW_SECONDS", 900, minimum=60)
INTAKE_SUBMITS_PER_CLIENT_PER_HOUR = env_int("INTAKE_SUBMITS_PER_CLIENT_PER_HOUR", 60, minimum=1)

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Vertrouwd <no-reply@vertrouwd.localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own config gives "django" a mail_admins handler: an error report carries the
        # request (case text in a POST). Nothing leaves by e-mail but through mail.outbox, so
        # "django" logs to the console through the root logger only.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
    },
}
ADMINS: list[tuple[str, str]] = []  # never set: see LOGGING
os.environ.setdefault("FORKED_BY_MULTIPROCESSING", "1")

# The largest request body we accept: five sparring attachments of 10 MB and the form around
# them. saas.guards answers 413 above it; the Helm chart's ingress allows the same size.
MAX_REQUEST_BYTES = 52 * 1024 * 1024

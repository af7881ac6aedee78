"""Django settings for Bots EDI on Kubernetes; the config dir's settings.py star-imports this module.

Database credentials come only from the environment (Secret bots-edidb-secret), never from a file, so no
password is ever written to the data volume.
"""

import os

import bots
from django.core.exceptions import ImproperlyConfigured

from botsedi import paths

_REQUIRED_ENV = ("DB_NAME", "DB_USER", "DB_PASSWORD", "DB_HOST", "DJANGO_SECRET_KEY")
_missing = [name for name in _REQUIRED_ENV if not os.environ.get(name)]
if _missing:
    raise ImproperlyConfigured(
        f"Environment variable(s) {', '.join(_missing)} not set. Set DB_NAME, DB_USER, DB_PASSWORD, DB_HOST, "
        "DB_PORT and DJANGO_SECRET_KEY (in Kubernetes: Secret bots-edidb-secret via envFrom)."
    )
_port = os.environ.get("DB_PORT", "3306")
if not _port.isdigit():
    # bots' engine does int(PORT) itself; fail here with a clear message instead of deep in the engine
    raise ImproperlyConfigured(f"DB_PORT must be a number, got {_port!r}.")

BOTS_DIR = os.path.dirname(os.path.abspath(bots.__file__))

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.mysql",
        "NAME": os.environ["DB_NAME"],
        "USER": os.environ["DB_USER"],
        "PASSWORD": os.environ["DB_PASSWORD"],
        "HOST": os.environ["DB_HOST"],
        "PORT": _port,
        # bots' engine passes OPTIONS to MySQLdb.connect() too, so only keys MySQLdb knows belong here
        "OPTIONS": {
            "charset": "utf8mb4",
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
            "connect_timeout": int(os.environ.get("DB_CONNECT_TIMEOUT", "10")),
        },
    }
}

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["*"]
# Bots stores naive local times and the database fills ts columns with its own clock: keep both on one zone.
TIME_ZONE = os.environ.get("TZ", "UTC")
USE_TZ = False
LANGUAGE_CODE = "en-us"
USE_I18N = True
LOCALE_PATHS = (os.path.join(BOTS_DIR, "locale"),)

# /health/* and /metrics first, then all of Bots' own urls (see botsedi/urls.py)
ROOT_URLCONF = "botsedi.urls"
STATIC_URL = "/static/"
STATIC_ROOT = paths.STATIC_ROOT  # collected at image build time; bots-webserver finds it up to date
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/home"
LOGOUT_URL = "/logout/"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = 3600
SESSION_SAVE_EVERY_REQUEST = True
SITE_ID = 1
FILE_UPLOAD_HANDLERS = ("django.core.files.uploadhandler.TemporaryFileUploadHandler",)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
MANAGERS = ()
SERVER_EMAIL = "bots@localhost"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "bots",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Bots overrides some admin templates: its template dir must come before the admin app's
        "DIRS": [os.path.join(BOTS_DIR, "templates")],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "bots.bots_context.set_context",
            ],
        },
    },
]

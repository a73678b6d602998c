"""Settings of the peer project: production-like (DEBUG off), sessions in SQLite, CSRF on.

Only what a django-formtools wizard needs: sessions (database backend, Django's default), the
template engine, and the middleware `startproject` adds minus auth and messages (no users
here). The database is a fresh SQLite file that bench/django_peer/run.py creates and migrates;
its path comes from PEER_DB. SQLite runs at Django's defaults (rollback journal, the driver's
synchronous=FULL) unless PEER_SQLITE_WAL=1, which sets WAL + synchronous=NORMAL like resume's.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

# Only for this throwaway run on 127.0.0.1; long enough that `check --deploy` does not complain.
SECRET_KEY = os.environ.get(
    "PEER_SECRET_KEY", "peer-bench-only:not-a-secret;used-for-a-throwaway-run-on-127.0.0.1=Zq8"
)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.sessions",
    "formtools",
    "peer",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "peer.urls"
WSGI_APPLICATION = "peer.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,  # the cached loader is used (DEBUG is off)
        "OPTIONS": {"context_processors": ["django.template.context_processors.csrf"]},
    }
]

_sqlite_options = {}
if os.environ.get("PEER_SQLITE_WAL") == "1":
    _sqlite_options["init_command"] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("PEER_DB", str(BASE_DIR.parent / "peer.sqlite3")),
        "OPTIONS": _sqlite_options,
    }
}

SESSION_ENGINE = "django.contrib.sessions.backends.db"  # Django's default, said explicitly
USE_I18N = False
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

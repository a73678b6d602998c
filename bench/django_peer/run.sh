#!/usr/bin/env bash
# The Django + django-formtools peer figure, in one command (from anywhere):
#
#     bench/django_peer/run.sh                      # 32 and 128 connections, the defaults
#     bench/django_peer/run.sh --server uvicorn     # any bench/django_peer/run.py option
#
# Django and friends go into a virtualenv of their own (PEER_VENV, /tmp/django-bench by
# default), created on first use; never into the project's .venv-test.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${PEER_VENV:-/tmp/django-bench}"
if [ ! -x "$venv/bin/gunicorn" ] || [ ! -x "$venv/bin/uvicorn" ]; then
    # One creator at a time: two test runs on a shared machine can both find it missing.
    exec 9>"$venv.lock"
    flock 9
    if [ ! -x "$venv/bin/gunicorn" ] || [ ! -x "$venv/bin/uvicorn" ]; then
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet "django>=5.2,<6" "django-formtools==2.7" \
            gunicorn uvicorn httptools uvloop
    fi
    exec 9>&-
fi
exec "$venv/bin/python" "$here/run.py" --venv "$venv" "$@"

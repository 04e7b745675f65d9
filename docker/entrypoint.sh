#!/bin/sh
# Sharpline container entrypoint: the first argument picks the role.
#   web     apply migrations, then serve with gunicorn on :8000 (WEB_CONCURRENCY workers, default 3)
#   worker  Celery worker (CELERY_CONCURRENCY processes, default 2)
#   beat    Celery beat with the django-celery-beat database scheduler (run exactly one)
#   other   exec the command as given, e.g. `python manage.py createsuperuser`
# Extra arguments after a role are passed on to gunicorn or celery.
# Every role ends in exec, so the server is PID 1 and receives SIGTERM directly.
set -eu

[ "$#" -gt 0 ] || set -- web

case "$1" in
    web)
        shift
        python manage.py migrate --noinput
        exec gunicorn core.wsgi:application \
            --bind 0.0.0.0:8000 \
            --workers "${WEB_CONCURRENCY:-3}" \
            --access-logfile - \
            "$@"
        ;;
    worker)
        shift
        exec celery -A core worker \
            --loglevel "${CELERY_LOGLEVEL:-info}" \
            --concurrency "${CELERY_CONCURRENCY:-2}" \
            --queues "${CELERY_QUEUES:-default,ingest,models}" \
            "$@"
        ;;
    beat)
        shift
        exec celery -A core beat \
            --loglevel "${CELERY_LOGLEVEL:-info}" \
            --scheduler django_celery_beat.schedulers:DatabaseScheduler \
            "$@"
        ;;
    *)
        exec "$@"
        ;;
esac

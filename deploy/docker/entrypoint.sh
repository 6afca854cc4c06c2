#!/bin/sh
# Entry point of the Pinstablr image: the first argument picks the role.
#
#   web             gunicorn on 0.0.0.0:8000
#   worker-images   Celery worker for the images queue (renditions)
#   worker-reports  Celery worker for the reports and default queues
#   beat            Celery beat (run exactly one)
#   migrate         migrate the primary and the experiments database, then exit
#   anything else   run as given, e.g. `python manage.py topology` or `sh`
#
# Tunables (environment, with defaults): GUNICORN_WORKERS=3, GUNICORN_TIMEOUT=60,
# GUNICORN_GRACEFUL_TIMEOUT=30, CELERY_CONCURRENCY=2, CELERY_MAX_TASKS_PER_CHILD=100,
# LOG_LEVEL=INFO. Every role execs its process, so it gets the container's signals as PID 1.
set -eu

role="${1:-web}"
[ "$#" -gt 0 ] && shift

case "$role" in
  web)
    # Access log on stdout with the X-Request-ID the load balancer sets, so a request can be
    # followed from nginx to Django. Heartbeat files in /dev/shm, not on a slow or read-only disk.
    exec gunicorn pinstablr.wsgi:application \
      --bind 0.0.0.0:8000 \
      --workers "${GUNICORN_WORKERS:-3}" \
      --timeout "${GUNICORN_TIMEOUT:-60}" \
      --graceful-timeout "${GUNICORN_GRACEFUL_TIMEOUT:-30}" \
      --max-requests 1000 \
      --max-requests-jitter 100 \
      --worker-tmp-dir /dev/shm \
      --access-logfile - \
      --error-logfile - \
      --access-logformat '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}i)s "%(a)s"' \
      "$@"
    ;;
  worker-images)
    exec celery -A pinstablr worker \
      --queues images \
      --hostname "images@%h" \
      --concurrency "${CELERY_CONCURRENCY:-2}" \
      --max-tasks-per-child "${CELERY_MAX_TASKS_PER_CHILD:-100}" \
      --loglevel "${LOG_LEVEL:-INFO}" \
      "$@"
    ;;
  worker-reports)
    exec celery -A pinstablr worker \
      --queues reports,default \
      --hostname "reports@%h" \
      --concurrency "${CELERY_CONCURRENCY:-2}" \
      --max-tasks-per-child "${CELERY_MAX_TASKS_PER_CHILD:-100}" \
      --loglevel "${LOG_LEVEL:-INFO}" \
      "$@"
    ;;
  beat)
    # The schedule file goes to /tmp: the root filesystem is read-only in Kubernetes.
    exec celery -A pinstablr beat \
      --schedule /tmp/celerybeat-schedule \
      --loglevel "${LOG_LEVEL:-INFO}" \
      "$@"
    ;;
  migrate)
    exec python manage.py migrate_all "$@"
    ;;
  *)
    exec "$role" "$@"
    ;;
esac

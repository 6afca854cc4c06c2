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
#
# Metrics: the web and worker roles run several processes (gunicorn's workers, Celery's
# pool), which add up their metrics through files in PROMETHEUS_MULTIPROC_DIR
# (prometheus_client's multiprocess mode). The folder is emptied at every start: files of an
# earlier run would be counted again. It is exported here only, not set on the container,
# so one-off commands (kubectl exec, health checks) leave nothing there.
set -eu

role="${1:-web}"
[ "$#" -gt 0 ] && shift

fresh_metrics_dir() {
  export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-/tmp/prometheus-metrics}"
  rm -rf "$PROMETHEUS_MULTIPROC_DIR"
  mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
}

# Celery's start-up banner is plain text; the logs are one JSON object per line.
export CELERY_QUIET="${CELERY_QUIET:-1}"

case "$role" in
  web)
    # The config module makes gunicorn log in the app's format and sums the workers' metrics;
    # the app logs every request itself, with its X-Request-ID, so gunicorn's access log
    # (format below) is written only when gunicorn runs without that module.
    # Heartbeat files in /dev/shm, not on a slow or read-only disk.
    fresh_metrics_dir
    exec gunicorn pinstablr.wsgi:application \
      --config python:pinstablr.observability.gunicorn \
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
    fresh_metrics_dir
    exec celery -A pinstablr worker \
      --queues images \
      --hostname "images@%h" \
      --concurrency "${CELERY_CONCURRENCY:-2}" \
      --max-tasks-per-child "${CELERY_MAX_TASKS_PER_CHILD:-100}" \
      --loglevel "${LOG_LEVEL:-INFO}" \
      "$@"
    ;;
  worker-reports)
    fresh_metrics_dir
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

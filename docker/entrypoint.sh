#!/bin/sh
# One image, one process per container; the first argument chooses which.
#
#   web              gunicorn serving saas.wsgi (graceful stop on SIGTERM, see gunicorn.conf.py)
#   worker           celery worker (tasks are acks_late: a killed worker's task is redelivered)
#   beat             celery beat with the database scheduler; run exactly one
#   migrate          public schema, template schema, then every client schema in parallel
#                    (manage.py migrate_tenants; extra arguments are passed on)
#   manage <args>    any manage.py command, e.g. `manage export_client --firm acme --slug a1 …`
#   <anything else>  executed as given (a shell for debugging, say)
#
# Every role `exec`s its process so that it receives SIGTERM directly (tini is PID 1 in the image).
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
app_dir=${APP_DIR:-$(dirname -- "$here")}
cd "$app_dir"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-saas.settings}"

role=${1:-web}
[ "$#" -gt 0 ] && shift

case "$role" in
  web)
    exec gunicorn --config "$here/gunicorn.conf.py" saas.wsgi:application "$@"
    ;;
  worker)
    # Warm shutdown on SIGTERM: no new tasks, running ones finish (give the pod a grace period
    # longer than the longest task); prefetch 1 and acks_late come from settings.
    exec celery -A saas worker \
      --loglevel "${LOG_LEVEL:-INFO}" \
      --concurrency "${CELERY_CONCURRENCY:-2}" \
      --queues "${CELERY_QUEUE:-vertrouwd}" \
      --without-gossip --without-mingle \
      "$@"
    ;;
  beat)
    # The schedule lives in the database (django_celery_beat); no schedule or pid file is written,
    # so the root filesystem can stay read-only.
    exec celery -A saas beat \
      --loglevel "${LOG_LEVEL:-INFO}" \
      --scheduler django_celery_beat.schedulers:DatabaseScheduler \
      --pidfile= \
      "$@"
    ;;
  migrate)
    exec python manage.py migrate_tenants --processes "${MIGRATION_PROCESSES:-2}" "$@"
    ;;
  manage)
    exec python manage.py "$@"
    ;;
  *)
    exec "$role" "$@"
    ;;
esac

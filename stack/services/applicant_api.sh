# Service applicant_api: the Applicant Data API (applicant_api/, APIFlask) under gunicorn, 127.0.0.1:5000.
# Database settings come from var/stack.env (LOANRISK_DB_*); APPLICANT_API_* variables override app config.

PORT_applicant_api=5000

install_applicant_api() {
  [ -x "$VENV/bin/gunicorn" ] || die "gunicorn missing from .venv (run make venv)"
}

start_applicant_api() {
  start_bg applicant_api env PROMETHEUS_MULTIPROC_DIR="$(metrics_dir applicant_api)" "$VENV/bin/gunicorn" --chdir "$ROOT" --workers 2 --bind "127.0.0.1:$PORT_applicant_api" \
    --timeout 30 --graceful-timeout 10 --limit-request-line 4094 --access-logfile - \
    "applicant_api:create_app()"
}

healthy_applicant_api() {
  curl -fsS --max-time 3 "http://127.0.0.1:$PORT_applicant_api/readyz" >/dev/null
}

# Service dashboard: the live decisions dashboard (monitoring/dashboard, Flask) under gunicorn on
# 127.0.0.1:5080. It reads Prometheus (charts), HBase (a decision's details) and loan-decisions (recent ones).
# Chart.js is installed from npm into var/opt (never a CDN, never committed) and served by the app.
# DASHBOARD_* variables override its config (e.g. DASHBOARD_PROMETHEUS_URL).

PORT_dashboard=5080
CHARTJS_VERSION=4.5.1
CHARTJS_DIR="$OPT/chartjs-$CHARTJS_VERSION"

install_dashboard() {
  [ -x "$VENV/bin/gunicorn" ] || die "gunicorn missing from .venv (run make venv)"
  [ -f "$CHARTJS_DIR/package/dist/chart.umd.js" ] && return 0
  command -v npm >/dev/null || die "npm is needed once to fetch chart.js (apt-get install npm)"
  say "fetching chart.js $CHARTJS_VERSION from npm into $CHARTJS_DIR"
  rm -rf "$CHARTJS_DIR"; mkdir -p "$CHARTJS_DIR"
  (cd "$CHARTJS_DIR" && npm pack --silent "chart.js@$CHARTJS_VERSION" >/dev/null && tar -xzf chart.js-*.tgz) \
    || die "npm pack chart.js@$CHARTJS_VERSION failed"
}

start_dashboard() {
  start_bg dashboard env DASHBOARD_CHARTJS_FILE="$CHARTJS_DIR/package/dist/chart.umd.js" \
    DASHBOARD_PROMETHEUS_URL="http://127.0.0.1:$PORT_prometheus" \
    "$VENV/bin/gunicorn" --chdir "$ROOT" --workers 1 --threads 8 --worker-class gthread \
    --bind "127.0.0.1:$PORT_dashboard" --timeout 30 --graceful-timeout 10 --limit-request-line 4094 \
    "monitoring.dashboard:create_app()"
}

healthy_dashboard() {
  curl -fsS --max-time 3 "http://127.0.0.1:$PORT_dashboard/healthz" >/dev/null
}

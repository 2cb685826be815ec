# Service risk_api: the Risk API (risk_api/, APIFlask + the trained model) under gunicorn, 127.0.0.1:5001.
# Needs no other service. install trains the model first when models/ has none (needs ../shared/data).
# RISK_API_* variables override app config (e.g. RISK_API_DECLINE_AT=0.35) and gunicorn settings
# (RISK_API_WORKERS, RISK_API_WORKER_CLASS, RISK_API_THREADS; see risk_api/gunicorn.conf.py).

PORT_risk_api=5001

install_risk_api() {
  [ -x "$VENV/bin/gunicorn" ] || die "gunicorn missing from .venv (run make venv)"
  if [ ! -f "$ROOT/models/risk_model.skops" ] || [ ! -f "$ROOT/models/risk_model.json" ]; then
    say "no trained risk model in models/: training it (make train)"
    (cd "$ROOT" && "$VENV/bin/python" -m jobs.train) \
      || die "training the risk model failed (are the shared samples in ../shared/data, or LOANRISK_DATA_DIR?)"
  fi
}

start_risk_api() {
  start_bg risk_api env PROMETHEUS_MULTIPROC_DIR="$(metrics_dir risk_api)" "$VENV/bin/gunicorn" --chdir "$ROOT" -c "$ROOT/risk_api/gunicorn.conf.py" \
    --bind "127.0.0.1:$PORT_risk_api" "risk_api:create_app()"
}

healthy_risk_api() {
  curl -fsS --max-time 3 "http://127.0.0.1:$PORT_risk_api/readyz" >/dev/null
}

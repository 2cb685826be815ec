# Service risk_proxy: the drills' fault-injecting proxy in front of the Risk API (jobs/drills/proxy.py),
# 127.0.0.1:5011, control port 127.0.0.1:5012. Passes everything through unless a drill sets a fault.
# Only the topology that `make chaos` submits points at it (-o loanrisk.risk_api.url=http://127.0.0.1:5011).

PORT_risk_proxy=5011
RISK_PROXY_CONTROL=5012

start_risk_proxy() {
  PYTHONPATH="$ROOT" start_bg risk_proxy "$VENV/bin/python" -m jobs.drills.proxy --listen "$PORT_risk_proxy" \
    --control "$RISK_PROXY_CONTROL" --upstream "http://127.0.0.1:$PORT_risk_api"
}

healthy_risk_proxy() {
  curl -fsS --max-time 3 "http://127.0.0.1:$RISK_PROXY_CONTROL/fault" >/dev/null
}

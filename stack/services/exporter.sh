# Service exporter: the pipeline's Prometheus metrics (monitoring/exporter.py) on 127.0.0.1:9391/metrics.
# Reads the loan-decisions and dead-letter topics, HBase (grades), Kafka offsets and Storm UI's REST API;
# it starts before them and catches up once they answer.

PORT_exporter=9391

install_exporter() {
  "$VENV/bin/python" -c "import prometheus_client" 2>/dev/null || die "prometheus-client missing from .venv (run make venv)"
}

start_exporter() {
  start_bg exporter "$VENV/bin/python" -m monitoring.exporter --port "$PORT_exporter"
}

# grep reads the whole answer (no -q): quitting early would SIGPIPE curl, which pipefail reports as a failure.
healthy_exporter() {
  curl -fsS --max-time 3 "http://127.0.0.1:$PORT_exporter/metrics" | grep '^loanrisk_pipeline_decision_events_total' >/dev/null
}

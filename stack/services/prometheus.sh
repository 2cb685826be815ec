# Service prometheus: the Prometheus server from Debian's `prometheus` package, our own instance on
# 127.0.0.1:9390 (not Debian's system service on :9090, which is HBase Thrift's port here), data under
# var/data/prometheus (7 days). Configuration: config/prometheus/prometheus.yml.in (scrape targets, every
# service's PORT_*) and config/prometheus/rules/*.yml (recording and alert rules), written to var/conf.

PORT_prometheus=9390
PROMETHEUS_BIN=/usr/bin/prometheus
PROMETHEUS_CONF="$CONF/prometheus.yml"

install_prometheus() {
  [ -x "$PROMETHEUS_BIN" ] || die "prometheus missing: it is in APT_PACKAGES (stack/stack.sh install)"
}

# Write var/conf/prometheus.yml from the template, with every service's port and the rules folder.
write_prometheus_conf() {
  sed -e "s#@RULES_DIR@#$ROOT/config/prometheus/rules#" \
      -e "s#@PORT_prometheus@#$PORT_prometheus#" -e "s#@PORT_risk_api@#$PORT_risk_api#" \
      -e "s#@PORT_applicant_api@#$PORT_applicant_api#" -e "s#@PORT_exporter@#$PORT_exporter#" \
      -e "s#@PORT_dashboard@#$PORT_dashboard#" \
      "$ROOT/config/prometheus/prometheus.yml.in" > "$PROMETHEUS_CONF"
  /usr/bin/promtool check config "$PROMETHEUS_CONF" >/dev/null || die "invalid $PROMETHEUS_CONF (promtool check config)"
}

start_prometheus() {
  write_prometheus_conf
  mkdir -p "$DATA/prometheus"
  start_bg prometheus "$PROMETHEUS_BIN" --config.file="$PROMETHEUS_CONF" --storage.tsdb.path="$DATA/prometheus" \
    --storage.tsdb.retention.time=7d --web.listen-address="127.0.0.1:$PORT_prometheus" --web.enable-lifecycle \
    --web.console.templates=/usr/share/prometheus/web/consoles \
    --web.console.libraries=/usr/share/prometheus/web/console_libraries
}

healthy_prometheus() {
  curl -fsS --max-time 3 "http://127.0.0.1:$PORT_prometheus/-/ready" >/dev/null
}

# An empty folder for a gunicorn app's prometheus-client multiprocess files (PROMETHEUS_MULTIPROC_DIR):
# each worker counts in its own files and /metrics sums them. Wiped while the app is not running, so a restart
# starts the counters from zero instead of adding up earlier runs' files.
metrics_dir() {
  local dir="$RUN/metrics/$1"
  svc_pid "$1" >/dev/null || rm -rf "$dir"
  mkdir -p "$dir"
  echo "$dir"
}

#!/usr/bin/env bash
# Run the local stack natively: stack.sh install|up|down|status|clean [service...]
#
# Each file stack/services/*.sh defines, for every service NAME it owns:
#   PORT_NAME=<port>          the port `status` prints
#   install_NAME              fetch what the service needs (idempotent, fast when done)
#   start_NAME                start it in the background with start_bg (idempotent)
#   healthy_NAME              exit 0 when it answers at the protocol level
#   stop_NAME (optional)      defaults to stop_bg NAME
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Start order; `down` uses the reverse.
ORDER=(mariadb zookeeper kafka hbase hbase_thrift nimbus supervisor supervisor2 ui applicant_api risk_api risk_proxy exporter prometheus dashboard)
APT_PACKAGES=(mariadb-server mariadb-client zookeeper leiningen libnrepl-clojure libnrepl-incomplete-clojure curl prometheus chromium chromium-driver)

for f in "$ROOT"/stack/services/*.sh; do source "$f"; done

defined() { declare -F "$1" >/dev/null; }

# The named services (all by default) in start order, whatever order they were named in; unknown names last.
selected() {
  [ $# -gt 0 ] || { printf '%s\n' "${ORDER[@]}"; return; }
  local s
  for s in "${ORDER[@]}"; do [[ " $* " == *" $s "* ]] && echo "$s"; done
  for s in "$@"; do [[ " ${ORDER[*]} " == *" $s "* ]] || echo "$s"; done
}

install_base() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -q
    # Debian's postinst would start a system mariadb/zookeeper; we run our own instances instead.
    DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
    for s in mariadb zookeeper prometheus; do $sudo service "$s" stop >/dev/null 2>&1 || true; done
  fi
  make -s -C "$ROOT" venv
}

# Run "$@" holding lock $1 (var/run/<name>.lock): concurrent stack.sh runs take turns per service instead of
# fetching into the same folder or starting twins (e.g. formatting Kafka's storage twice).
with_lock() {
  local name=$1; shift
  (
    flock -n 9 || { say "waiting for another stack.sh working on $name"; flock 9; }
    "$@"
  ) 9>"$RUN/$name.lock"
}

cmd_install() {
  with_lock base install_base
  for s in $(selected "$@"); do
    if defined "install_$s"; then with_lock "$s" "install_$s"; fi
  done
}

# Start service $1 unless it is healthy, and wait until it is.
up_one() {
  local s=$1
  if ! "healthy_$s" >/dev/null 2>&1; then "start_$s"; fi
  wait_for "$s" "${UP_TIMEOUT:-180}" "healthy_$s" || { tail -n 30 "$(logfile "$s")" >&2 || true; die "$s did not become healthy; see $(logfile "$s")"; }
}

cmd_up() {
  local t0=$SECONDS
  cmd_install "$@"
  load_stack_env
  for s in $(selected "$@"); do
    defined "start_$s" || { say "service $s is not defined yet (stack/services)"; continue; }
    with_lock "$s" up_one "$s"
  done
  say "stack up in $((SECONDS - t0))s"
}

cmd_down() {
  local names; names=$(selected "$@" | tac)
  for s in $names; do
    if defined "stop_$s"; then "stop_$s"; else stop_bg "$s"; fi
  done
}

cmd_status() {
  load_stack_env
  local bad=0 pid health port
  printf '%-14s %-6s %-8s %-9s %s\n' SERVICE PORT PID HEALTH LOG
  for s in $(selected "$@"); do
    defined "healthy_$s" || continue
    pid=$(svc_pid "$s" || echo -)
    if "healthy_$s" >/dev/null 2>&1; then health=healthy; else health=DOWN; bad=1; fi
    port="PORT_$s"
    printf '%-14s %-6s %-8s %-9s %s\n' "$s" "${!port:-?}" "$pid" "$health" "$(logfile "$s")"
  done
  return $bad
}

cmd_clean() {
  cmd_down
  say "wiping service data and logs under $VAR (downloads in var/opt are kept)"
  rm -rf "$DATA" "$LOGS" "$RUN" "$CONF"
}

cmd=${1:-}; shift || true
case "$cmd" in
  install|up|down|status|clean) "cmd_$cmd" "$@" ;;
  *) echo "usage: stack/stack.sh install|up|down|status|clean [service...]" >&2; exit 2 ;;
esac

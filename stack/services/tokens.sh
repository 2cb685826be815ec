# Service tokens: the API tokens of the local stack (no process). install writes var/tokens/store.json (hashes
# only) and one token per role, var/tokens/{admin,reader,scorer,operator}.token (mode 600), keeping valid
# ones; `python -m jobs.tokens` issues, rotates, revokes and lists (README "Security").

PORT_tokens=-

install_tokens() {
  [ -x "$VENV/bin/python" ] || die "python missing from .venv (run make venv)"
  (cd "$ROOT" && "$VENV/bin/python" -m jobs.tokens init) || die "writing the API tokens failed"
}

start_tokens() {
  install_tokens
}

healthy_tokens() {
  local dir="${LOANRISK_TOKEN_DIR:-$VAR/tokens}"
  [ -s "$dir/store.json" ] && [ -s "$dir/admin.token" ] && [ "$(stat -c %a "$dir/store.json")" = 600 ]
}

stop_tokens() {
  :  # nothing runs; the tokens stay valid across restarts (rotate or revoke them with python -m jobs.tokens)
}

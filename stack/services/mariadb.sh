# Service mariadb: our own MariaDB instance (Debian's binaries) for the applicant data, 127.0.0.1:3306.
# Data in var/data/mariadb (survives down/up), socket and pid in var/run, log in var/log/mariadb.log.
# The database `loanrisk` and the user `loanrisk` (password from var/stack.env) are ensured at every start.

PORT_mariadb=3306
MARIADB_DATA="$DATA/mariadb"
MARIADB_SOCK="$RUN/mariadb.sock"
MARIADB_CNF="$CONF/mariadb.cnf"

# Write our server configuration (no Debian defaults are read).
mariadb_write_conf() {
  cat > "$MARIADB_CNF" <<CNF
[mysqld]
user = root
datadir = $MARIADB_DATA
socket = $MARIADB_SOCK
pid-file = $RUN/mariadbd.pid
bind-address = 127.0.0.1
port = $PORT_mariadb
skip-name-resolve
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
innodb_buffer_pool_size = 256M
max_connections = 200
max_allowed_packet = 64M
CNF
}

# Stop a system MariaDB started by the Debian package: it would hold port 3306.
mariadb_stop_system() {
  local pid
  [ -f /run/mysqld/mysqld.pid ] || return 0
  pid=$(cat /run/mysqld/mysqld.pid)
  kill -0 "$pid" 2>/dev/null || return 0
  say "stopping the system mariadb (pid $pid) that holds port $PORT_mariadb"
  service mariadb stop >/dev/null 2>&1 || service mysql stop >/dev/null 2>&1 || true
}

install_mariadb() {
  command -v mariadbd >/dev/null || die "mariadb-server is not installed (stack.sh install installs it)"
  mariadb_write_conf
  if [ ! -d "$MARIADB_DATA/mysql" ]; then
    say "initialising the MariaDB data directory $MARIADB_DATA"
    mkdir -p "$MARIADB_DATA"
    mariadb-install-db --defaults-file="$MARIADB_CNF" --auth-root-authentication-method=socket \
      --skip-test-db >>"$(logfile mariadb)" 2>&1 || die "mariadb-install-db failed; see $(logfile mariadb)"
  fi
}

# Run SQL as root over our socket.
mariadb_root() { mariadb --no-defaults --protocol=socket -S "$MARIADB_SOCK" -u root "$@"; }

# Create the project database and user (idempotent; also resets the password to var/stack.env's).
mariadb_provision() {
  local pw=${LOANRISK_DB_PASSWORD//\'/\'\'} user=$LOANRISK_DB_USER db=$LOANRISK_DB_NAME host
  local sql="CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
  for host in 127.0.0.1 localhost; do
    sql+="CREATE USER IF NOT EXISTS '$user'@'$host' IDENTIFIED BY '$pw';"
    sql+="ALTER USER '$user'@'$host' IDENTIFIED BY '$pw';"
    sql+="GRANT ALL PRIVILEGES ON \`$db\`.* TO '$user'@'$host';"
    # Tests create and drop their own databases named loanrisk_test_*.
    sql+="GRANT ALL PRIVILEGES ON \`${db}\\_test\\_%\`.* TO '$user'@'$host';"
  done
  mariadb_root -e "$sql"
}

start_mariadb() {
  mariadb_stop_system
  port_open "$PORT_mariadb" && ! svc_pid mariadb >/dev/null && die "port $PORT_mariadb is held by another process"
  start_bg mariadb mariadbd --defaults-file="$MARIADB_CNF"
  wait_for "mariadb socket" 60 mariadb_root -e "SELECT 1" || return 1
  mariadb_provision
}

healthy_mariadb() {
  MYSQL_PWD=$LOANRISK_DB_PASSWORD mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$PORT_mariadb" \
    -u "$LOANRISK_DB_USER" -N -e "SELECT 1" "$LOANRISK_DB_NAME" >/dev/null
}

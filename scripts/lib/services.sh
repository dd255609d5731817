# shellcheck shell=bash
# Shared by scripts/test, scripts/run and scripts/bench: install what is missing, find free
# loopback ports, start private Redis, PostgreSQL and PgBouncer servers, stop them on exit.
# Source it; it defines functions only.

WHAGO_APT_PACKAGES=(redis-server libhiredis-dev libpq-dev libcurl4-openssl-dev pkg-config postgresql pgbouncer)

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }

# ensure_packages [EXTRA...]: installs the Debian packages that are missing, the shared list plus
# EXTRA (needs root or sudo, as on CI and the dev machines).
ensure_packages() {
  local missing=()
  for pkg in "${WHAGO_APT_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  command -v swift >/dev/null || { echo "swift is not on PATH: install the Swift 6 toolchain" >&2; exit 1; }
}

# Prints a free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_redis DIR [FSYNC [PORT]]: starts redis-server with its files in DIR and the append-only file
# on; sets REDIS_PORT and REDIS_PID (also written to DIR/redis.pid). FSYNC is the AOF's fsync policy:
# everysec (the default: a crash may lose the last second of writes) or always (every write is on
# disk before Redis answers it, so even a SIGKILL loses nothing acknowledged). PORT, when given,
# is used as it is (a restart on the port the clients know); else a free port is picked.
# Another process may take the free port before Redis binds it: then Redis exits, and another port is
# tried. The server that answers must be ours (still running), not whoever took the port.
start_redis() {
  local dir=$1 fsync=${2:-everysec} port=${3:-} attempt
  case "$fsync" in everysec | always) ;; *) echo "start_redis: FSYNC must be everysec or always, not '$fsync'" >&2; exit 1 ;; esac
  mkdir -p "$dir"
  # In its own session (as pg_ctl puts PostgreSQL): a Ctrl-C meant for the script reaches the whole
  # terminal process group, and Redis must outlive the workers that are still handing jobs back.
  local session=()
  if command -v setsid >/dev/null; then session=(setsid); fi
  for attempt in 1 2 3 4 5; do
    REDIS_PORT=${port:-$(free_port)}
    # A restart on a given port keeps the log of the runs before it.
    [ -n "$port" ] || : >"$dir/redis.log"
    # Never under libfaketime (LD_PRELOAD), which redis-server does not survive: tests that move
    # the clock move PostgreSQL's and whago's, and Redis time is only ever read as a relative clock.
    "${session[@]}" env -u LD_PRELOAD redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$dir" --appendonly yes \
      --appendfsync "$fsync" --save "" --hz 100 --daemonize no --logfile "$dir/redis.log" --pidfile "$dir/redis.pid" &
    REDIS_PID=$!
    for _ in $(seq 1 100); do
      kill -0 "$REDIS_PID" 2>/dev/null || break
      env -u LD_PRELOAD redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && kill -0 "$REDIS_PID" 2>/dev/null && return 0
      sleep 0.1
    done
    if [ -z "$port" ] && ! kill -0 "$REDIS_PID" 2>/dev/null && grep -q "Address already in use" "$dir/redis.log"; then
      log "port $REDIS_PORT was taken before Redis bound it; trying another (attempt $attempt)"
      continue
    fi
    break
  done
  echo "redis-server did not start; see $dir/redis.log" >&2
  exit 1
}

# as_postgres CMD...: runs CMD as the postgres system user when we are root (initdb and postgres
# refuse to run as root), as ourselves otherwise.
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# start_postgres DIR [FSYNC [PORT]]: starts a private PostgreSQL on a free loopback port (or on PORT,
# for a restart on the port the clients know), its cluster in
# DIR/data (created on first use, reused after), its log in DIR/postgres.log. FSYNC is off (the
# default: tests) or on (data that should survive a crash). Sets PG_PORT, PG_URL (user whago,
# password whago, owner of database whago, scram-sha-256 over TCP), PG_BIN and PG_DATA;
# stop_services stops it. PG_EXTRA_OPTIONS: more server settings ("-c name=value ..."), for benchmarks.
start_postgres() {
  local dir=$1 fsync=${2:-off} port=${3:-}
  case "$fsync" in on | off) ;; *) echo "start_postgres: FSYNC must be on or off, not '$fsync'" >&2; exit 1 ;; esac
  PG_BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  if [ ! -x "$PG_BIN/postgres" ]; then
    echo "no PostgreSQL server in /usr/lib/postgresql/*/bin: install the postgresql package" >&2
    exit 1
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
    chmod 0700 "$dir"
    # mktemp directories are 0700 root: the postgres user must at least traverse DIR's parent.
    runuser -u postgres -- test -x "$(dirname "$dir")" || chmod o+x "$(dirname "$dir")"
    runuser -u postgres -- test -w "$dir" || {
      echo "start_postgres: the postgres user cannot write $dir; make its parent directories traversable (chmod o+x)" >&2
      exit 1
    }
  fi
  # A Unix socket path may be at most 107 bytes: use a short directory if DIR is deep.
  local sockets=$dir
  if [ ${#dir} -gt 80 ]; then
    sockets=$(mktemp -d /tmp/whago-pg.XXXXXX)
    [ "$(id -u)" -ne 0 ] || chown postgres: "$sockets"
    PG_SOCKET_TMP=$sockets
  fi
  PG_DATA=$dir/data
  local log=$dir/postgres.log major
  major=$(basename "$(dirname "$PG_BIN")")
  if [ -f "$PG_DATA/PG_VERSION" ]; then
    [ "$(cat "$PG_DATA/PG_VERSION")" = "$major" ] || {
      echo "start_postgres: $PG_DATA holds a PostgreSQL $(cat "$PG_DATA/PG_VERSION") cluster, the server is $major; remove it" >&2
      exit 1
    }
  else
    rm -rf "$PG_DATA"
    printf 'whago\n' >"$dir/pwfile"
    [ "$(id -u)" -ne 0 ] || chown postgres: "$dir/pwfile"
    local sync=()
    [ "$fsync" = on ] || sync=(--no-sync)
    (cd "$dir" && as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U whago --pwfile="$dir/pwfile" \
      --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 "${sync[@]}") >"$dir/initdb.log" 2>&1 || {
      rm -f "$dir/pwfile"
      echo "initdb failed; see $dir/initdb.log" >&2
      exit 1
    }
    rm -f "$dir/pwfile"
  fi
  # Another process may take the free port before the server binds it: then try another one.
  local attempt
  for attempt in 1 2 3; do
    PG_PORT=${port:-$(free_port)}
    if (cd "$dir" && as_postgres "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$log" -w -t 30 \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='$sockets' -c fsync=$fsync -c max_connections=300 ${PG_EXTRA_OPTIONS:-}") >/dev/null 2>&1; then
      break
    fi
    local last
    last=$(tail -n 20 "$log" 2>/dev/null || true)
    if [ -z "$port" ] && [ "$attempt" -lt 3 ] && [[ $last == *"could not bind"* || $last == *"could not create any TCP/IP sockets"* ]]; then
      continue
    fi
    as_postgres "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m immediate >/dev/null 2>&1 || true
    PG_DATA=""
    echo "PostgreSQL did not start (or not within 30 s); see $log" >&2
    exit 1
  done
  local ready=""
  for _ in $(seq 1 300); do
    if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then ready=1; break; fi
    sleep 0.1
  done
  [ -n "$ready" ] || { echo "PostgreSQL does not answer on 127.0.0.1:$PG_PORT after 30 s; see $log" >&2; exit 1; }
  if [ "$(cd "$dir" && as_postgres "$PG_BIN/psql" -h "$sockets" -p "$PG_PORT" -U whago -d postgres -Atqc \
    "select 1 from pg_database where datname = 'whago'")" != 1 ]; then
    (cd "$dir" && as_postgres "$PG_BIN/createdb" -h "$sockets" -p "$PG_PORT" -U whago -O whago whago) || {
      echo "could not create database whago; see $log" >&2
      exit 1
    }
  fi
  # shellcheck disable=SC2034 # for the caller
  PG_URL="postgres://whago:whago@127.0.0.1:$PG_PORT/whago"
}

# stop_postgres: stops the PostgreSQL of PG_DATA (fast shutdown: sessions are ended, the data is
# checkpointed) and waits until its postmaster is gone; safe when none runs.
stop_postgres() {
  if [ -n "${PG_DATA:-}" ] && [ -f "$PG_DATA/postmaster.pid" ]; then
    [ -n "${PG_BIN:-}" ] || PG_BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    local pid
    pid=$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)
    (cd / && as_postgres "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 30) >/dev/null 2>&1 || true
    # pg_ctl returns once the pid file is gone, a moment before the postmaster exits (a zombie
    # waiting for its reaper counts as gone).
    local state
    for _ in $(seq 1 100); do
      state=$(ps -o stat= -p "${pid:-0}" 2>/dev/null || true)
      case "$state" in "" | Z*) break ;; esac
      sleep 0.05
    done
  fi
}

# start_pgbouncer DIR PG_PORT: starts PgBouncer in front of the PostgreSQL on 127.0.0.1:PG_PORT, as
# production runs it: transaction pooling (each transaction on whichever server connection is
# free, nothing kept between them), on a free loopback port, its files in DIR. Any database name
# reaches the database of that name on PG_PORT (user whago, password whago, SCRAM; PgBouncer
# checks it against a userlist of its own and logs in to the server with it). Sets
# PGBOUNCER_PORT, PGBOUNCER_URL and PGBOUNCER_PID; stop_services stops it.
start_pgbouncer() {
  local dir=$1 pg_port=$2 attempt
  command -v pgbouncer >/dev/null || { echo "no pgbouncer on PATH: install the pgbouncer package" >&2; exit 1; }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  # PgBouncer refuses to run as root: as root it drops to the postgres user (its -u), which must
  # own its files and traverse DIR's parent (mktemp directories are 0700 root).
  local user=()
  if [ "$(id -u)" -eq 0 ]; then
    user=(-u postgres)
    runuser -u postgres -- test -x "$(dirname "$dir")" || chmod o+x "$(dirname "$dir")"
  fi
  (umask 077 && printf '"whago" "whago"\n' >"$dir/userlist.txt")
  local session=()
  if command -v setsid >/dev/null; then session=(setsid); fi
  for attempt in 1 2 3 4 5; do
    PGBOUNCER_PORT=$(free_port)
    cat >"$dir/pgbouncer.ini" <<EOF
[databases]
* = host=127.0.0.1 port=$pg_port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGBOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
    : >"$dir/pgbouncer.log"
    [ "$(id -u)" -ne 0 ] || chown -R postgres: "$dir"
    # Never under libfaketime, like Redis: it only relays, and the clock that matters is PostgreSQL's.
    "${session[@]}" env -u LD_PRELOAD pgbouncer "${user[@]}" "$dir/pgbouncer.ini" >>"$dir/pgbouncer.out" 2>&1 &
    PGBOUNCER_PID=$!
    for _ in $(seq 1 100); do
      kill -0 "$PGBOUNCER_PID" 2>/dev/null || break
      if PGPASSWORD=whago env -u LD_PRELOAD psql -h 127.0.0.1 -p "$PGBOUNCER_PORT" -U whago -d whago -Atqc 'select 1' \
        >/dev/null 2>&1 && kill -0 "$PGBOUNCER_PID" 2>/dev/null; then
        # shellcheck disable=SC2034 # for the caller
        PGBOUNCER_URL="postgres://whago:whago@127.0.0.1:$PGBOUNCER_PORT/whago"
        return 0
      fi
      sleep 0.1
    done
    if ! kill -0 "$PGBOUNCER_PID" 2>/dev/null && grep -qs "Address already in use" "$dir/pgbouncer.log" "$dir/pgbouncer.out"; then
      log "port $PGBOUNCER_PORT was taken before PgBouncer bound it; trying another (attempt $attempt)"
      continue
    fi
    break
  done
  kill "$PGBOUNCER_PID" 2>/dev/null || true
  PGBOUNCER_PID=""
  echo "pgbouncer did not start; see $dir/pgbouncer.log" >&2
  exit 1
}

# Stops what start_* started; safe to call twice.
stop_services() {
  if [ -n "${PGBOUNCER_PID:-}" ] && kill -0 "$PGBOUNCER_PID" 2>/dev/null; then
    kill "$PGBOUNCER_PID" 2>/dev/null || true
    wait "$PGBOUNCER_PID" 2>/dev/null || true
  fi
  PGBOUNCER_PID=""
  stop_postgres
  PG_DATA=""
  if [ -n "${PG_SOCKET_TMP:-}" ]; then rm -rf "$PG_SOCKET_TMP"; fi
  PG_SOCKET_TMP=""
  if [ -n "${REDIS_PID:-}" ] && kill -0 "$REDIS_PID" 2>/dev/null; then
    kill "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
  fi
  REDIS_PID=""
}

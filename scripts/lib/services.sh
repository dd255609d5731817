# Shared by scripts/test, scripts/run and scripts/bench: install what is missing, find free
# loopback ports, start private Redis (and later PostgreSQL) servers, stop them on exit.
# Source it; it defines functions only.

WHAGO_APT_PACKAGES=(redis-server libhiredis-dev libpq-dev libcurl4-openssl-dev pkg-config postgresql)

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }

# Installs the Debian packages that are missing (needs root, as on CI and the dev machines).
ensure_packages() {
  local missing=()
  for pkg in "${WHAGO_APT_PACKAGES[@]}"; do
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

# start_redis DIR: starts redis-server on a free port with its files in DIR; sets REDIS_PORT and REDIS_PID.
start_redis() {
  local dir=$1
  mkdir -p "$dir"
  REDIS_PORT=$(free_port)
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$dir" --appendonly yes --appendfsync everysec \
    --save "" --hz 100 --daemonize no --logfile "$dir/redis.log" &
  REDIS_PID=$!
  for _ in $(seq 1 100); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "redis-server did not start; see $dir/redis.log" >&2
  exit 1
}

# Stops what start_* started; safe to call twice.
stop_services() {
  if [ -n "${REDIS_PID:-}" ] && kill -0 "$REDIS_PID" 2>/dev/null; then
    kill "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
  fi
  REDIS_PID=""
}

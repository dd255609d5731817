#!/usr/bin/env python3
"""One campaign of N recipients, end to end, for scripts/bench campaign.

Runs whago serve, two whago workers and the WAHA simulator (10 sessions, no latency, no acks) on
loopback against the Redis and PostgreSQL that scripts/bench started (or its PgBouncer, with
WHAGO_DATABASE_POOLER=transaction, when it passes that); a plan with every limit lifted;
recipients uploaded as CSV in chunks of 10,000. Prints sends/s, end-to-end time, the peak
RSS of every process, Redis and PostgreSQL growth, and checks from the simulator's log that every
recipient got exactly one message.
"""
import json, os, random, socket, subprocess, sys, time, urllib.error, urllib.request

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
CHIPS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
BIN, PG, RUN = os.environ["WHAGO_BIN"], os.environ["WHAGO_DATABASE_URL"], os.environ["RUN_DIR"]
REDIS_PORT = os.environ["REDIS_PORT"]
POOLER = os.environ.get("WHAGO_DATABASE_POOLER") or "none"
VIA = os.environ.get("BENCH_VIA", "PostgreSQL directly")
env = dict(os.environ, WHAGO_OUTBOUND_ALLOW="127.0.0.0/8", WHAGO_REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/0", WHAGO_DATABASE_URL=PG,
           WHAGO_DATABASE_POOLER=POOLER, WHAGO_JOBS_DIR=os.path.abspath("jobs"), WHAGO_LOG_LEVEL="warning")
procs = {}


def phone(i):
    # Distinct numbers; none ending in 0000, which the simulator treats as not on WhatsApp.
    n = (10_000_000 + i * 3) % 100_000_000
    return n + 1 if n % 10_000 == 0 else n


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port


def whago(*args):
    out = subprocess.run([BIN, *args], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"campaign: whago {' '.join(args)} failed: {out.stdout[-800:]}{out.stderr[-800:]}")
    return out.stdout


def start(name, *args):
    log = open(f"{RUN}/{name}.log", "w")
    procs[name] = subprocess.Popen([BIN, *args], env=env, stdout=log, stderr=subprocess.STDOUT)


def request(method, url, body=None, key=None, content_type="application/json", timeout=60):
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    headers = {"Content-Type": content_type}
    if key: headers["Authorization"] = "Bearer " + key
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_for(what, check, within=60):
    deadline = time.time() + within
    while time.time() < deadline:
        try:
            if check(): return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"campaign: {what} did not happen within {within} s")


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"): return int(line.split()[1]) / 1024
    return 0.0


def redis_memory():
    out = subprocess.run(["redis-cli", "-p", REDIS_PORT, "info", "memory"], capture_output=True, text=True).stdout
    return int(next(l.split(":")[1] for l in out.splitlines() if l.startswith("used_memory:")))


def pg_size():
    return int(whago_sql("SELECT pg_database_size(current_database())"))


def whago_sql(sql):
    out = subprocess.run(["psql", PG, "-Atc", sql], capture_output=True, text=True)
    if out.returncode != 0: sys.exit(f"campaign: psql failed: {out.stderr}")
    return out.stdout.strip()


try:
    whago("migrate")
    whago("plan", "set", "bench-unlimited", "--from", "enterprise", "min_send_gap_ms=0", "sends_per_minute=unlimited",
          "monthly_credits=unlimited", "contacts_per_list=unlimited", "api_requests_per_hour=unlimited", "chips=unlimited")
    tenant = f"bench{random.randint(0, 10**9)}"
    whago("tenant", "create", tenant, "--plan", "bench-unlimited")
    whago("tenant", "set-window", tenant, "--start", "00:00", "--end", "24:00", "--days", "1-7")
    key = whago("apikey", "create", tenant, "--quiet").strip().splitlines()[-1]
    secret = "bench-secret"
    env["WHAGO_WAHA_WEBHOOK_SECRET"] = secret
    serve_port, sim_port = free_port(), free_port()
    base, sim = f"http://127.0.0.1:{serve_port}", f"http://127.0.0.1:{sim_port}"
    start("serve", "serve", "--port", str(serve_port))
    sessions = [f"{tenant}-{i}" for i in range(CHIPS)]
    start("sim", "sim", "waha", "--port", str(sim_port), "--api-key", "k", "--sessions", ",".join(sessions),
          "--webhook-url", base + "/v1/webhooks/waha", "--webhook-secret", secret, "--latency", "0ms",
          "--ack-delays", "none")
    wait_for("serve to answer", lambda: request("GET", base + "/healthz")[0] == 200)
    wait_for("the simulator to answer", lambda: request("GET", sim + "/_sim/config")[0] == 200)
    chips = []
    for i, session in enumerate(sessions):
        status, body = request("POST", base + "/v1/chips", {"name": f"chip{i}", "waha_url": sim, "session": session,
                                                             "waha_api_key": "k"}, key)
        if status != 201: sys.exit(f"campaign: chip registration answered {status}: {body[:300]}")
        chips.append(json.loads(body)["id"])
        request("POST", sim + f"/_sim/sessions/{session}/status", {"status": "WORKING"})
    ids = ",".join(map(str, chips))
    wait_for("the chips to be WORKING",
             lambda: whago_sql(f"SELECT count(*) FROM chips WHERE id IN ({ids}) AND status = 'WORKING'") == str(CHIPS))
    status, body = request("POST", base + "/v1/campaigns", {"name": "bench", "template": "Oi {{nome}}, promo {{codigo}}!",
                                                            "chip_ids": chips,
                                                            "pace": {"min_interval_ms": 0, "max_interval_ms": 0}}, key)
    if status != 201: sys.exit(f"campaign: creation answered {status}: {body[:300]}")
    campaign = json.loads(body)["id"]
    redis_before, pg_before = redis_memory(), pg_size()
    upload_started = time.time()
    for chunk in range(0, N, 10_000):
        rows = ["phone,nome,codigo"] + [f"+55119{phone(i):08d},Cliente {i},C{i}" for i in range(chunk, min(N, chunk + 10_000))]
        status, body = request("POST", base + f"/v1/campaigns/{campaign}/recipients", "\n".join(rows).encode(), key,
                               "text/csv", timeout=300)
        if status != 200: sys.exit(f"campaign: upload answered {status}: {body[:300]}")
    upload_seconds = time.time() - upload_started
    for w in range(2):
        start(f"worker{w}", "work", "--queues", "campaigns", "--concurrency", "64", "--database-pool", "16")
    started = time.time()
    status, body = request("POST", base + f"/v1/campaigns/{campaign}/start", None, key)
    if status != 200: sys.exit(f"campaign: start answered {status}: {body[:300]}")
    last_report = started
    while True:
        status, body = request("GET", base + f"/v1/campaigns/{campaign}", None, key)
        view = json.loads(body)
        if view["status"] == "completed": break
        if time.time() - last_report >= 10:
            c = view["counts"]
            print(f"  ... {c['sent']:,} sent, {c['pending']:,} pending after {time.time() - started:.0f} s", flush=True)
            last_report = time.time()
        if time.time() - started > 3600: sys.exit("campaign: not completed within an hour")
        time.sleep(0.2)
    elapsed = time.time() - started
    counts = view["counts"]
    status, body = request("GET", sim + "/_sim/messages", timeout=300)
    log = json.loads(body)
    per_chat = {}
    for m in log: per_chat[m["chatId"]] = per_chat.get(m["chatId"], 0) + 1
    twice = sum(1 for v in per_chat.values() if v > 1)
    times = sorted(m["time"] for m in log)
    steady = (len(times) - 1) / max(0.001, (times[-1] - times[0]) / 1000) if len(times) > 1 else 0
    rss = ", ".join(f"{name} {peak_rss_mib(p.pid):.1f} MiB" for name, p in procs.items())
    print(f"campaign of {N:,} recipients from {CHIPS} chips (2 workers x 64, simulator latency 0, limits lifted): "
          f"{counts['sent']:,} sent in {elapsed:.1f} s from start to completed = {counts['sent'] / elapsed:,.0f} sends/s "
          f"(first to last accepted send: {steady:,.0f}/s); recipients sent twice: {twice}; not sent: {N - len(per_chat)}")
    print(f"  database: {VIA}, WHAGO_DATABASE_POOLER={POOLER}")
    print(f"  recipient upload: {N:,} rows as CSV in {upload_seconds:.1f} s; peak RSS: {rss}")
    print(f"  growth during the send: Redis {(redis_memory() - redis_before) / 1024 / 1024:+.1f} MiB, "
          f"PostgreSQL {(pg_size() - pg_before) / 1024 / 1024:+.1f} MiB (database total "
          f"{pg_size() / 1024 / 1024:.0f} MiB)")
    if twice or counts["sent"] != N:
        sys.exit("campaign: INVALID: not every recipient got exactly one message")
finally:
    for p in procs.values():
        p.terminate()
    for p in procs.values():
        try: p.wait(timeout=15)
        except subprocess.TimeoutExpired: p.kill()

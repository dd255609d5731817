#!/usr/bin/env python3
"""Campaigns of N recipients in all, end to end, for scripts/bench campaign.

TENANTS tenants (default 1) each run one campaign of N / TENANTS recipients from CHIPS chips of their
own (default 10), all at once. Runs whago serve, two whago workers and the WAHA simulator (one
session per chip, no latency, no acks) on
loopback against the Redis and PostgreSQL that scripts/bench started (or its PgBouncer, with
WHAGO_DATABASE_POOLER=transaction, when it passes that); a plan with every limit lifted;
recipients uploaded as CSV in chunks of 10,000. Prints sends/s, end-to-end time, the peak
RSS of every process, Redis and PostgreSQL growth, and checks from the simulator's log that every
recipient got exactly one message. With pg_stat_statements loaded (scripts/bench does), also
PostgreSQL statements per send (BEGIN and COMMIT count); and Redis script calls per send.
"""
import json, os, random, socket, subprocess, sys, time, urllib.error, urllib.request

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
CHIPS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
TENANTS = int(sys.argv[3]) if len(sys.argv) > 3 else 1
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


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU of one process so far (its own threads, not its children)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def postgres_cpu():
    """CPU of every postgres process alive now: the server and its backends (the workers' and
    serve's connections live through the send, so a delta over it counts their statements)."""
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() != "postgres": continue
        except OSError:
            continue
        total += cpu_seconds(pid)
    return total


def redis_cpu():
    out = subprocess.run(["redis-cli", "-p", REDIS_PORT, "info", "cpu"], capture_output=True, text=True).stdout
    return sum(float(l.split(":")[1]) for l in out.splitlines() if l.startswith(("used_cpu_user:", "used_cpu_sys:")))


def redis_memory():
    out = subprocess.run(["redis-cli", "-p", REDIS_PORT, "info", "memory"], capture_output=True, text=True).stdout
    return int(next(l.split(":")[1] for l in out.splitlines() if l.startswith("used_memory:")))


def redis_scripts():
    out = subprocess.run(["redis-cli", "-p", REDIS_PORT, "info", "commandstats"], capture_output=True, text=True).stdout
    return sum(int(l.split("calls=")[1].split(",")[0]) for l in out.splitlines()
               if l.startswith(("cmdstat_evalsha:", "cmdstat_eval:")))


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
    secret = "bench-secret"
    env["WHAGO_WAHA_WEBHOOK_SECRET"] = secret
    serve_port, sim_port = free_port(), free_port()
    base, sim = f"http://127.0.0.1:{serve_port}", f"http://127.0.0.1:{sim_port}"
    tenants = [f"bench{random.randint(0, 10**9)}t{t}" for t in range(TENANTS)]
    keys = {}
    for tenant in tenants:
        whago("tenant", "create", tenant, "--plan", "bench-unlimited")
        whago("tenant", "set-window", tenant, "--start", "00:00", "--end", "24:00", "--days", "1-7")
        keys[tenant] = whago("apikey", "create", tenant, "--quiet").strip().splitlines()[-1]
    start("serve", "serve", "--port", str(serve_port))
    sessions = {tenant: [f"{tenant}-{i}" for i in range(CHIPS)] for tenant in tenants}
    start("sim", "sim", "waha", "--port", str(sim_port), "--api-key", "k",
          "--sessions", ",".join(s for t in tenants for s in sessions[t]),
          "--webhook-url", base + "/v1/webhooks/waha", "--webhook-secret", secret, "--latency", "0ms",
          "--ack-delays", "none")
    wait_for("serve to answer", lambda: request("GET", base + "/healthz")[0] == 200)
    wait_for("the simulator to answer", lambda: request("GET", sim + "/_sim/config")[0] == 200)
    chips = {}
    for tenant in tenants:
        chips[tenant] = []
        for i, session in enumerate(sessions[tenant]):
            status, body = request("POST", base + "/v1/chips", {"name": f"chip{i}", "waha_url": sim, "session": session,
                                                                 "waha_api_key": "k"}, keys[tenant])
            if status != 201: sys.exit(f"campaign: chip registration answered {status}: {body[:300]}")
            chips[tenant].append(json.loads(body)["id"])
            request("POST", sim + f"/_sim/sessions/{session}/status", {"status": "WORKING"})
    ids = ",".join(str(c) for t in tenants for c in chips[t])
    wait_for("the chips to be WORKING",
             lambda: whago_sql(f"SELECT count(*) FROM chips WHERE id IN ({ids}) AND status = 'WORKING'")
             == str(CHIPS * TENANTS), within=300)
    campaigns = {}
    for tenant in tenants:
        status, body = request("POST", base + "/v1/campaigns", {"name": "bench", "template": "Oi {{nome}}, promo {{codigo}}!",
                                                                "chip_ids": chips[tenant],
                                                                "pace": {"min_interval_ms": 0, "max_interval_ms": 0}},
                               keys[tenant])
        if status != 201: sys.exit(f"campaign: creation answered {status}: {body[:300]}")
        campaigns[tenant] = json.loads(body)["id"]
    redis_before, pg_before = redis_memory(), pg_size()
    upload_started = time.time()
    share = [N // TENANTS + (1 if t < N % TENANTS else 0) for t in range(TENANTS)]
    first = 0
    for t, tenant in enumerate(tenants):
        for chunk in range(first, first + share[t], 10_000):
            rows = ["phone,nome,codigo"] + [f"+55119{phone(i):08d},Cliente {i},C{i}"
                                            for i in range(chunk, min(first + share[t], chunk + 10_000))]
            status, body = request("POST", base + f"/v1/campaigns/{campaigns[tenant]}/recipients",
                                   "\n".join(rows).encode(), keys[tenant], "text/csv", timeout=300)
            if status != 200: sys.exit(f"campaign: upload answered {status}: {body[:300]}")
        first += share[t]
    upload_seconds = time.time() - upload_started
    for w in range(2):
        start(f"worker{w}", "work", "--queues", "campaigns", "--concurrency", "64", "--database-pool", "16")
    statements = whago_sql("SELECT current_setting('shared_preload_libraries') LIKE '%pg_stat_statements%'") == "t"
    if statements:
        whago_sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        whago_sql("SELECT pg_stat_statements_reset()")
    scripts_before = redis_scripts()
    cpu_before = {name: cpu_seconds(p.pid) for name, p in procs.items()}
    cpu_before["postgres"], cpu_before["redis"] = postgres_cpu(), redis_cpu()
    started = time.time()
    for tenant in tenants:
        status, body = request("POST", base + f"/v1/campaigns/{campaigns[tenant]}/start", None, keys[tenant])
        if status != 200: sys.exit(f"campaign: start answered {status}: {body[:300]}")
    last_report = started
    ids = ",".join(map(str, campaigns.values()))
    while True:
        # Polled twice a second: only the campaigns' rows. Counting the sent messages scans them all
        # (57 ms at 100,000), so that runs only for the progress line, every 10 s.
        completed = int(whago_sql(f"SELECT count(*) FILTER (WHERE status = 'completed') FROM campaigns WHERE id IN ({ids})"))
        if completed == TENANTS: break
        if time.time() - last_report >= 10:
            sent = int(whago_sql(f"SELECT count(*) FILTER (WHERE status = 'sent') FROM "
                                 f"(SELECT state AS status FROM campaign_messages WHERE campaign_id IN ({ids})) m"))
            print(f"  ... {sent:,} sent, {completed} of {TENANTS} campaigns completed after {time.time() - started:.0f} s",
                  flush=True)
            last_report = time.time()
        if time.time() - started > 3600: sys.exit("campaign: not completed within an hour")
        time.sleep(0.5)
    elapsed = time.time() - started
    cpu_after = {name: cpu_seconds(p.pid) for name, p in procs.items()}
    cpu_after["postgres"], cpu_after["redis"] = postgres_cpu(), redis_cpu()
    scripts = redis_scripts() - scripts_before
    calls = int(whago_sql("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
                          "WHERE query NOT ILIKE '%pg_stat_statements%' AND query NOT ILIKE '%FILTER (WHERE status%'")
                ) if statements else None
    sent = int(whago_sql(f"SELECT count(*) FROM campaign_messages WHERE campaign_id IN ({ids}) AND state = 'sent'"))
    counts = {"sent": sent}
    status, body = request("GET", sim + "/_sim/messages", timeout=300)
    log = json.loads(body)
    per_chat = {}
    for m in log: per_chat[m["chatId"]] = per_chat.get(m["chatId"], 0) + 1
    twice = sum(1 for v in per_chat.values() if v > 1)
    times = sorted(m["time"] for m in log)
    steady = (len(times) - 1) / max(0.001, (times[-1] - times[0]) / 1000) if len(times) > 1 else 0
    rss = ", ".join(f"{name} {peak_rss_mib(p.pid):.1f} MiB" for name, p in procs.items())
    print(f"{TENANTS} campaign(s) of {N:,} recipients in all, {CHIPS} chips each (2 workers x 64, simulator latency 0, limits lifted): "
          f"{counts['sent']:,} sent in {elapsed:.1f} s from start to completed = {counts['sent'] / elapsed:,.0f} sends/s "
          f"(first to last accepted send: {steady:,.0f}/s); recipients sent twice: {twice}; not sent: {N - len(per_chat)}")
    print(f"  database: {VIA}, WHAGO_DATABASE_POOLER={POOLER}")
    per_send = f"{calls / max(1, counts['sent']):.1f}" if calls is not None else "not measured (no pg_stat_statements)"
    print(f"  per send: PostgreSQL statements {per_send}, Redis script calls {scripts / max(1, counts['sent']):.2f}")
    print("  CPU per send (user + system, over the send): " + ", ".join(
        f"{name} {(cpu_after[name] - cpu_before[name]) * 1e6 / max(1, counts['sent']):.0f} us" for name in cpu_after)
        + f"; in all {sum(cpu_after.values()) - sum(cpu_before.values()):.1f} CPU s over {elapsed:.1f} s on "
        f"{os.cpu_count()} cores")
    if statements:
        # Where PostgreSQL's time goes: the statements of the send path by execution plus planning time.
        top = whago_sql(
            "SELECT round((total_exec_time + total_plan_time)::numeric * 1000 / greatest(1, calls)), calls, "
            "round(total_plan_time::numeric * 1000 / greatest(1, calls)), "
            "regexp_replace(left(query, 90), '\\s+', ' ', 'g') FROM pg_stat_statements "
            "WHERE query NOT ILIKE '%pg_stat_statements%' ORDER BY total_exec_time + total_plan_time DESC LIMIT 8")
        print("  PostgreSQL's busiest statements (us per call, of which planning; calls):")
        for line in top.splitlines():
            us, n, plan, query = line.split("|", 3)
            print(f"    {us:>6} us ({plan} planning) x {int(n):,}: {query}")
        # Where the statements per send come from: the most frequent ones, each as calls per send.
        frequent = whago_sql(
            "SELECT calls, regexp_replace(left(query, 90), '\\s+', ' ', 'g') FROM pg_stat_statements "
            "WHERE query NOT ILIKE '%pg_stat_statements%' AND query NOT ILIKE '%FILTER (WHERE status%' "
            "ORDER BY calls DESC LIMIT 10")
        print("  PostgreSQL's most frequent statements (calls per send; calls):")
        for line in frequent.splitlines():
            n, query = line.split("|", 1)
            print(f"    {int(n) / max(1, counts['sent']):6.3f} x {int(n):,}: {query}")
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

#!/usr/bin/env python3
"""The fault run behind scripts/chaos: proves "never twice, never lost" under faults.

scripts/chaos starts a private Redis (append-only file, fsync always) and PostgreSQL and calls
this with their ports. From there everything is real processes: `whago serve`, three `whago work`
on a compressed schedule clock, the WAHA simulator with 10% faults and the payments simulator.
The workload (campaigns, maturation programs, subscription renewals, a stream of witness jobs)
goes in through the HTTP API and the CLI as an operator would; meanwhile workers are SIGKILLed and
SIGSTOPped past their lease, Redis is restarted twice and PostgreSQL is stopped for 20 s. Then
the faults stop (WAHA's too) and the run drains within a bound.

The verdict is read from witnesses outside whago wherever one exists: the WAHA simulator's log
of accepted messages, the payment simulator's log of charges, and the `diag.echo` witness hash
in Redis, checked against what this script itself submitted. Each line prints what it expected
and what it saw, so a wrong count is visible, and any wrong line makes the exit status 1.

Python 3 standard library only; every process it starts is tracked by pid (and listed in
RUN_DIR/pids for scripts/chaos's cleanup), and only those are ever signalled.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

# ───────────────────────────── the two forms ─────────────────────────────


@dataclass(frozen=True)
class Form:
    """How big a run is. The short form is CI's (about two minutes on two busy cores)."""

    workload_s: float  # how long work is submitted and faults are injected
    drain_s: float  # the longest wait afterwards for everything to finish
    speed: int  # schedule seconds per real second (cron, maturation days, billing dates)
    campaigns: int
    recipients: int  # per campaign
    campaign_chips: int  # chips of the campaign tenant; each campaign uses three of them
    maturation_days: int
    echo_per_s: float  # witness jobs submitted per second
    kills: int  # workers SIGKILLed (and restarted)
    stops: int  # workers SIGSTOPped past their lease (then SIGCONTed)
    subscriptions: tuple  # (gateway, payment method) per billed tenant


SUBSCRIPTIONS = (
    ("stripe", "pm_card_visa"),
    ("stripe", "pm_card_visa"),
    ("stripe", "pm_card_timeoutAfterCharge"),
    ("stripe", "pm_card_timeoutAfterCharge"),
    ("stripe", "pm_card_chargeDeclined"),
    ("mercadopago", "card_APRO"),
    ("mercadopago", "card_TIMEOUT"),
)

FORMS = {
    "short": Form(
        workload_s=65, drain_s=70, speed=7200, campaigns=4, recipients=25, campaign_chips=6, maturation_days=4,
        echo_per_s=4, kills=3, stops=2, subscriptions=SUBSCRIPTIONS,
    ),
    "long": Form(
        workload_s=600, drain_s=180, speed=7200, campaigns=12, recipients=60, campaign_chips=8, maturation_days=14,
        echo_per_s=4, kills=12, stops=8, subscriptions=SUBSCRIPTIONS * 2,
    ),
}

LEASE_S = 3  # workers' --lease: a SIGSTOP longer than this really loses the lease
PG_OUTAGE_S = 20
SEND_GAP_MS = 250  # the chaos plan's min_send_gap_ms, and the campaigns' pace


def cron_minutes(speed):
    """How often (in schedule minutes) the run's copy of the catalog fires the cron schedules that
    jobs/catalog.json fires every minute: on the fast clock those would fire 120 times a second
    at speed 7200; this is about twice a real second."""
    return max(1, min(60, round(speed / 120)))


# ───────────────────────────── output ─────────────────────────────

T0 = time.monotonic()
_print_lock = threading.Lock()


def say(message):
    """One line on standard output, stamped with seconds since the run began."""
    with _print_lock:
        print(f"[{time.monotonic() - T0:7.1f}s] {message}", flush=True)


class ChaosError(Exception):
    """The run could not be set up or carried out (not a verdict: the verdict is never reached)."""


# ───────────────────────────── processes ─────────────────────────────


class Processes:
    """The processes this run started, each logging to RUN_DIR/logs/NAME.log (appended across
    restarts). Nothing else is ever signalled: not by name, only by the pids recorded here."""

    def __init__(self, run_dir):
        self.logs = run_dir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.pid_list = run_dir / "pids"
        self.procs = {}
        self.lock = threading.Lock()

    def start(self, name, argv, env):
        log_path = self.logs / f"{name}.log"
        with open(log_path, "ab") as log:
            log.write(f"---- chaos: started at {datetime.now(timezone.utc).isoformat()} ----\n".encode())
            offset = log.tell()
            # Its own session: a Ctrl-C at the terminal reaches this script, which stops these in order.
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        with self.lock:
            self.procs[name] = proc
            with open(self.pid_list, "a") as f:
                f.write(f"{proc.pid}\n")
        return proc, offset

    def get(self, name):
        with self.lock:
            return self.procs.get(name)

    def alive(self, name):
        proc = self.get(name)
        return proc is not None and proc.poll() is None

    def signal(self, name, sig):
        proc = self.get(name)
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)

    def wait_listening(self, name, offset, timeout=60):
        """The base URL a server logged (`listening on http://HOST:PORT`) after `offset`."""
        path = self.logs / f"{name}.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(path, "rb") as f:
                f.seek(offset)
                match = re.search(rb"listening on (http://[0-9.]+:[0-9]+)", f.read())
            if match:
                return match.group(1).decode()
            if not self.alive(name):
                raise ChaosError(f"{name} exited before listening; see {path}")
            time.sleep(0.1)
        raise ChaosError(f"{name} did not log 'listening on' within {timeout} s; see {path}")

    def stop_all(self, grace=10):
        """SIGCONT (a stopped process cannot exit), SIGTERM, then SIGKILL whatever outlived `grace`."""
        with self.lock:
            procs = [p for p in self.procs.values() if p.poll() is None]
        for proc in procs:
            for sig in (signal.SIGCONT, signal.SIGTERM):
                try:
                    proc.send_signal(sig)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# ───────────────────────────── clients ─────────────────────────────


def http(method, url, body=None, key=None, headers=None, timeout=10):
    """(status, parsed JSON or text); status 0 when no answer came (refused, reset, timed out)."""
    data = None
    all_headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    if key:
        all_headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            status, raw = reply.status, reply.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except (OSError, ValueError) as error:  # URLError, ConnectionError, timeouts
        return 0, str(error)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


class Run:
    """What every part of the run shares: where things are and how to reach them."""

    def __init__(self, args, form):
        self.args = args
        self.form = form
        self.rng = random.Random(args.seed)
        self.run_dir = Path(args.run_dir)
        self.procs = Processes(self.run_dir)
        self.faults_log = self.run_dir / "faults.log"
        self.redis_url = f"redis://127.0.0.1:{args.redis_port}/0"
        self.env = dict(os.environ)
        self.env.update(
            # The simulators listen on loopback, the one internal network workers may reach here.
            WHAGO_OUTBOUND_ALLOW="127.0.0.0/8",
            WHAGO_REDIS_URL=self.redis_url,
            WHAGO_DATABASE_URL=args.pg_url,
            WHAGO_JOBS_DIR=str(self.run_dir / "jobs"),
            WHAGO_LOG_LEVEL="info",
        )
        self.env.pop("WHAGO_SCHEDULE_CLOCK", None)
        self.lock = threading.Lock()
        self.stop_workload = threading.Event()  # the workload's time is up
        self.aborted = threading.Event()  # the run is being torn down
        self.worker_names = ["worker-1", "worker-2", "worker-3"]
        self.fault_errors = []
        self.killed = set()  # workers the fault plan killed and will restart
        self.worker_exits = []  # workers that exited without being killed
        # What the witness-job stream did: idempotency key -> the job id the API answered.
        self.echo_ids = {}
        self.echo_refused = 0
        self.echo_key_conflicts = []

    # whago, psql and redis-cli, each as an operator would run them.

    def whago(self, *args, check=True, timeout=60):
        done = subprocess.run(
            [self.args.bin, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and done.returncode != 0:
            raise ChaosError(f"whago {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-800:]}")
        return done.stdout

    def sql(self, query):
        """Rows of `query` as dicts (psql answers one JSON array)."""
        wrapped = f"SELECT coalesce(json_agg(chaos_row), '[]'::json) FROM ({query}) chaos_row"
        done = subprocess.run(
            ["psql", self.args.pg_url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", wrapped],
            capture_output=True, text=True, timeout=60,
        )
        if done.returncode != 0:
            raise ChaosError(f"psql failed: {done.stderr.strip()}")
        return json.loads(done.stdout)

    def redis(self, *args):
        done = subprocess.run(
            ["redis-cli", "-p", str(self.args.redis_port), *args], capture_output=True, text=True, timeout=30
        )
        if done.returncode != 0:
            raise ChaosError(f"redis-cli {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout.splitlines()

    def services(self, script):
        """Runs bash `script` with scripts/lib/services.sh sourced (its functions start and stop
        Redis and PostgreSQL exactly as scripts/chaos did at the start)."""
        services = Path(__file__).resolve().parent / "services.sh"
        with open(self.run_dir / "logs" / "services.log", "ab") as log:
            done = subprocess.run(
                ["bash", "-c", f"source {services}\n{script}"], stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, timeout=120,
            )
        if done.returncode != 0:
            raise ChaosError(f"services.sh: {script!r} failed; see {self.run_dir / 'logs/services.log'}")

    def fault(self, message):
        say(f"FAULT {message}")
        with open(self.faults_log, "a") as f:
            f.write(f"{time.monotonic() - T0:8.1f}s {message}\n")


# ───────────────────────────── setup ─────────────────────────────


def write_catalog(run):
    """The run's jobs directory: the project's, with the every-minute cron schedules spaced out
    for the fast clock (see cron_minutes). Job types, attempts and backoffs are left as they are."""
    source = Path(run.args.jobs_dir)
    target = run.run_dir / "jobs"
    target.mkdir(exist_ok=True)
    for name in ("plans.json", "phrases.json"):
        if (source / name).exists():
            shutil.copy(source / name, target / name)
    catalog = json.loads((source / "catalog.json").read_text())
    every = cron_minutes(run.form.speed)
    minutes = "*" if every == 1 else ("0" if every == 60 else f"*/{every}")
    for schedule in catalog.get("schedules", {}).values():
        fields = schedule["cron"].split()
        if len(fields) == 6 and fields[1] == "*":  # seconds minutes hours ...: every minute
            fields[1] = minutes
            schedule["cron"] = " ".join(fields)
    (target / "catalog.json").write_text(json.dumps(catalog, indent=2))


def start_server(run, name, argv, env=None):
    _, offset = run.procs.start(name, [run.args.bin, *argv], env or run.env)
    base = run.procs.wait_listening(name, offset)
    say(f"{name} on {base}")
    return base


def start_worker(run, name):
    run.procs.start(
        name,
        [
            run.args.bin, "work", "--concurrency", "32", "--lease", f"{LEASE_S}s", "--grace", "3s",
            "--waha-timeout", "2s", "--schedule-clock", run.clock,
        ],
        run.worker_env,
    )
    run.killed.discard(name)


def setup(run):
    form = run.form
    write_catalog(run)
    run.whago("migrate")
    run.whago(
        "plan", "set", "chaos", "--from", "enterprise", f"min_send_gap_ms={SEND_GAP_MS}", "sends_per_minute=100000",
        "api_requests_per_hour=unlimited", "monthly_credits=1000000", "chips=50", "maturation_per_chip_day=unlimited",
    )
    for tenant in ("shop", "warmup"):
        run.whago("tenant", "create", tenant, "--plan", "chaos")
    run.whago("tenant", "set-window", "shop", "--start", "00:00", "--end", "24:00", "--days", "1-7")
    run.shop_key = run.whago("apikey", "create", "shop", "--quiet").strip()
    run.warmup_key = run.whago("apikey", "create", "warmup", "--quiet").strip()
    # Diagnostic jobs are operators': a service key submits them for the shop.
    run.ops_key = run.whago("apikey", "create", "--service", "--quiet").strip()

    secrets = dict(
        WHAGO_WAHA_WEBHOOK_SECRET="chaos-waha", WHAGO_STRIPE_WEBHOOK_SECRET="whsec_chaos",
        WHAGO_MERCADOPAGO_WEBHOOK_SECRET="mp-chaos",
    )
    serve_env = dict(run.env, **secrets)
    run.api = start_server(run, "serve", ["serve", "--port", "0", "--auth-cache", "1s"], serve_env)

    run.shop_sessions = [f"shop-{i}" for i in range(1, form.campaign_chips + 1)]
    run.warmup_sessions = [f"warmup-{i}" for i in range(1, 5)]
    # 10% of WAHA calls fail: 5% answered 500, 3% time out (half of those after the message went
    # out), 2% answered 429. Timeouts hold 3 s; workers give WAHA 2 s.
    run.waha = start_server(
        run, "waha-sim",
        [
            "sim", "waha", "--port", "0", "--sessions", ",".join(run.shop_sessions + run.warmup_sessions),
            "--webhook-url", f"{run.api}/v1/webhooks/waha", "--webhook-secret", secrets["WHAGO_WAHA_WEBHOOK_SECRET"],
            "--fail-rate", "0.05", "--timeout-rate", "0.03", "--rate-limit-rate", "0.02",
            "--timeout-after-send-rate", "0.5", "--timeout-hold", "3s", "--latency", "5ms",
        ],
    )
    # Timeout-after-charge cards charge, then hold the answer 3 s; workers give a gateway 1 s.
    run.pay = start_server(
        run, "payments-sim",
        ["sim", "payments", "--port", "0", "--timeout-hold", "3s", "--mercadopago-webhook-secret", "mp-chaos"],
    )
    status, reply = http("POST", f"{run.pay}/_sim/config", {"webhook_url": f"{run.api}/v1/webhooks/mercadopago"})
    if status != 200:
        raise ChaosError(f"payments simulator config answered {status}: {reply}")

    run.shop_chips = register_chips(run, run.shop_key, run.shop_sessions)
    run.warmup_chips = register_chips(run, run.warmup_key, run.warmup_sessions)
    create_campaigns(run)
    for pair, ramp in ((run.warmup_chips[:2], None), (run.warmup_chips[2:], [12])):
        body = {"chip_ids": pair, "days": form.maturation_days}
        if ramp:
            body["daily_ramp"] = ramp
        status, reply = http("POST", f"{run.api}/v1/maturation", body, key=run.warmup_key)
        if status != 201:
            raise ChaosError(f"POST /v1/maturation answered {status}: {reply}")
    say(f"{form.campaigns} campaign drafts ({form.campaigns * form.recipients} recipients), 2 maturation programs")

    # The schedule clock: schedule time is PostgreSQL's now at the moment Redis reads `anchor`.
    seconds, micros = run.redis("TIME")[:2]
    run.anchor_ms = int(seconds) * 1000 + int(micros) // 1000
    run.start_ms = int(float(run.sql("SELECT extract(epoch FROM date_trunc('second', now())) AS t")[0]["t"]) * 1000)
    start_iso = datetime.fromtimestamp(run.start_ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    run.clock = f"anchor={run.anchor_ms},start={start_iso},speed={form.speed}"
    create_subscriptions(run)

    run.worker_env = dict(
        run.env,
        WHAGO_STRIPE_API_URL=run.pay, WHAGO_STRIPE_SECRET_KEY="sk_test_sim",
        WHAGO_MERCADOPAGO_API_URL=run.pay, WHAGO_MERCADOPAGO_ACCESS_TOKEN="TEST-sim",
        WHAGO_PAYPAL_API_URL=run.pay, WHAGO_PAYPAL_CLIENT_ID="sim", WHAGO_PAYPAL_CLIENT_SECRET="sim",
        WHAGO_GATEWAY_TIMEOUT="1s", WHAGO_CHIP_RECHECK="1s",
    )
    for name in run.worker_names:
        start_worker(run, name)
    say(f"3 workers, lease {LEASE_S}s, schedule clock {run.clock} (a schedule day every {86400 / form.speed:.0f} s)")


def register_chips(run, key, sessions):
    """Registers one chip per simulator session and waits until WAHA's webhook marked them WORKING."""
    ids = []
    for session in sessions:
        status, reply = http(
            "POST", f"{run.api}/v1/chips", {"name": session, "waha_url": run.waha, "session": session}, key=key
        )
        if status != 201:
            raise ChaosError(f"POST /v1/chips answered {status}: {reply}")
        ids.append(reply["id"])
        http("POST", f"{run.waha}/_sim/sessions/{session}/status", {"status": "WORKING"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, reply = http("GET", f"{run.api}/v1/chips", key=key)
        if status == 200 and all(c.get("status") == "WORKING" for c in reply["chips"] if c["id"] in ids):
            return ids
        time.sleep(0.2)
    raise ChaosError(f"chips {sessions} did not become WORKING: {reply}")


def phone_numbers(rng, count):
    """`count` distinct São Paulo mobiles, none ending in 0000 (the simulator's 'not on WhatsApp')."""
    phones, base = [], rng.randrange(10_000_000, 80_000_000)
    n = 0
    while len(phones) < count:
        suffix = (base + n * 7919) % 100_000_000
        n += 1
        if suffix % 10_000 != 0:
            phones.append(f"+55119{suffix:08d}")
    return phones


def create_campaigns(run):
    """Drafts, before any fault: a draft created twice would send its phones twice. Phones are
    unique across campaigns, so a phone names one recipient. The last campaign is scheduled
    (start_at) to begin in the middle of the faults; the others are started during the run."""
    form = run.form
    phones = phone_numbers(run.rng, form.campaigns * form.recipients)
    run.campaigns = []
    for c in range(form.campaigns):
        mine = phones[c * form.recipients : (c + 1) * form.recipients]
        chips = run.rng.sample(run.shop_chips, 3)
        body = {
            "name": f"chaos-{c + 1}",
            "template": "Oi {{nome}}, promoção {{codigo}} só hoje!",
            "chip_ids": chips,
            "pace": {"min_interval_ms": SEND_GAP_MS, "max_interval_ms": SEND_GAP_MS * 2},
            "recipients": [
                {"phone": p, "vars": {"nome": f"Cliente {c}-{i}", "codigo": f"C{c}R{i}"}} for i, p in enumerate(mine)
            ],
        }
        scheduled = c == form.campaigns - 1
        if scheduled:
            at = time.time() + 15 + form.workload_s * 0.3
            body["start_at"] = datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        status, reply = http("POST", f"{run.api}/v1/campaigns", body, key=run.shop_key, timeout=30)
        if status != 201:
            raise ChaosError(f"POST /v1/campaigns answered {status}: {reply}")
        if reply.get("rejected"):
            raise ChaosError(f"campaign rows rejected: {reply['rejected']}")
        run.campaigns.append({"id": reply["id"], "phones": mine, "scheduled": scheduled})
        if scheduled:
            start_campaign(run, run.campaigns[-1], deadline=time.monotonic() + 30)


def create_subscriptions(run):
    """One billed tenant per subscription, each renewal due at a seeded moment of the workload:
    declines early enough for their dunning days (1 and 3 days later) to come within the run."""
    form = run.form
    run.subscriptions = []
    for i, (gateway, method) in enumerate(form.subscriptions, 1):
        tenant = f"bill-{i}"
        run.whago("tenant", "create", tenant, "--plan", "free")
        real_s = run.rng.uniform(3, 8) if "Declined" in method else run.rng.uniform(3, form.workload_s * 0.6)
        due_ms = run.start_ms + int(real_s * form.speed * 1000)
        due = datetime.fromtimestamp(due_ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        run.whago(
            "subscription", "create", tenant, "--plan", "business", "--gateway", gateway,
            "--customer", f"cus_chaos_{i}", "--payment-method", method, "--period-end", due,
        )
        run.subscriptions.append({"tenant": tenant, "gateway": gateway, "method": method, "due_real_s": real_s})
    say(f"{len(run.subscriptions)} subscriptions, renewals due {min(s['due_real_s'] for s in run.subscriptions):.0f}"
        f"-{max(s['due_real_s'] for s in run.subscriptions):.0f} s into the run")


# ───────────────────────────── workload ─────────────────────────────


def start_campaign(run, campaign, deadline):
    """POST /start until it is taken (503 while Redis or PostgreSQL is down; 409 once running)."""
    while time.monotonic() < deadline:
        status, reply = http("POST", f"{run.api}/v1/campaigns/{campaign['id']}/start", key=run.shop_key)
        if status in (200, 202):
            return True
        if status == 409:
            status, shown = http("GET", f"{run.api}/v1/campaigns/{campaign['id']}", key=run.shop_key)
            if status == 200 and shown.get("status") in ("running", "scheduled", "completed"):
                return True
        time.sleep(0.5)
    say(f"campaign {campaign['id']} could not be started: last answer {status} {reply}")
    return False


def campaign_starter(run):
    """Starts the unscheduled campaigns: half at once, the rest at seeded moments of the faults."""
    form = run.form
    pending = [c for c in run.campaigns if not c["scheduled"]]
    first = max(1, len(pending) // 2)
    times = [0.0] * first + sorted(run.rng.uniform(0.1, 0.55) * form.workload_s for _ in pending[first:])
    for campaign, at in zip(pending, times):
        if run.stop_workload.wait(max(0, run.workload_t0 + at - time.monotonic())):
            return
        if start_campaign(run, campaign, deadline=time.monotonic() + form.workload_s + form.drain_s):
            say(f"campaign {campaign['id']} started ({len(campaign['phones'])} recipients)")


def echo_submitter(run):
    """Witness jobs (`diag.echo` with "witness": true, which counts its runs in Redis), one at a
    time and in batches of five, some delayed by up to 5 s. Every submission carries an
    idempotency key and is repeated until accepted, so an answer lost to a fault never becomes
    a second job, and a refusal (503) is retried. run.echo_ids is every job the API accepted."""
    form = run.form
    rng = random.Random(run.args.seed + 1)
    n = 0
    started = time.monotonic()
    while not run.stop_workload.is_set():
        batch = n % 10 == 9
        jobs = []
        for _ in range(5 if batch else 1):
            n += 1
            job = {"type": "diag.echo", "payload": {"witness": True, "message": f"chaos {n}"}}
            if rng.random() < 0.3:
                job["delay_ms"] = rng.randrange(0, 5000)
            jobs.append((f"chaos-echo-{run.args.seed}-{n}", job))
        submit_until_taken(run, jobs, batch)
        # Paced by count, so time lost to an outage is made up afterwards.
        ahead = started + n / form.echo_per_s - time.monotonic()
        if ahead > 0:
            run.stop_workload.wait(ahead)


def submit_until_taken(run, jobs, batch):
    refused = 0
    deadline = time.monotonic() + run.form.workload_s + run.form.drain_s
    while time.monotonic() < deadline:
        if batch:
            body = {"jobs": [dict(job, idempotency_key=key) for key, job in jobs]}
            status, reply = http("POST", f"{run.api}/v1/jobs/batch", body, key=run.ops_key, headers={"Whago-Tenant": "shop"})
            if status in (200, 202) and isinstance(reply, dict) and len(reply.get("jobs", [])) == len(jobs):
                for (key, _), accepted in zip(jobs, reply["jobs"]):
                    record_echo(run, key, accepted["id"])
                break
        else:
            key, job = jobs[0]
            status, reply = http(
                "POST", f"{run.api}/v1/jobs", job, key=run.ops_key, headers={"Idempotency-Key": key, "Whago-Tenant": "shop"}
            )
            if status in (200, 202) and isinstance(reply, dict) and "id" in reply:
                record_echo(run, key, reply["id"])
                break
        refused += 1
        time.sleep(0.3)
    with run.lock:
        run.echo_refused += refused


def record_echo(run, key, job_id):
    with run.lock:
        previous = run.echo_ids.get(key)
        if previous and previous != job_id:
            # The same key answered with another job: the first one is no longer deduplicated.
            run.echo_key_conflicts.append(f"key {key}: job {previous}, then job {job_id}")
        run.echo_ids[key] = job_id


# ───────────────────────────── faults ─────────────────────────────


def plan_faults(run):
    """Every fault at a seeded moment: (seconds into the workload, label, action). Redis is
    restarted twice (once killed, once shut down cleanly) and PostgreSQL stopped once for 20 s,
    never overlapping one another; worker kills and stops fall anywhere, one at a time per worker."""
    form, rng = run.form, run.rng
    w = form.workload_s
    events = []
    redis_1 = rng.uniform(0.10, 0.22) * w
    pg_at = rng.uniform(0.30, 0.40) * w
    redis_2 = max(pg_at + PG_OUTAGE_S + 5, rng.uniform(0.70, 0.85) * w)
    events.append((redis_1, "Redis SIGKILL + restart", lambda: restart_redis(run, hard=True)))
    events.append((pg_at, f"PostgreSQL stop ({PG_OUTAGE_S} s)", lambda: stop_postgres(run)))
    events.append((pg_at + PG_OUTAGE_S, "PostgreSQL start", lambda: start_postgres(run)))
    events.append((redis_2, "Redis SHUTDOWN + restart", lambda: restart_redis(run, hard=False)))

    busy = {name: [] for name in run.worker_names}  # intervals in which a worker already has a fault

    def pick(at, length):
        free = [n for n in run.worker_names if all(e < at - 1 or s > at + length + 1 for s, e in busy[n])]
        name = rng.choice(free or run.worker_names)
        busy[name].append((at, at + length))
        return name

    for _ in range(form.kills):
        at, down = rng.uniform(0.03, 0.92) * w, rng.uniform(0.5, 3)
        name = pick(at, down + 3)
        events.append((at, f"SIGKILL {name}", lambda n=name: run_kill(run, n)))
        events.append((at + down, f"restart {name}", lambda n=name: start_worker(run, n)))
    for _ in range(form.stops):
        at, frozen = rng.uniform(0.03, 0.9) * w, LEASE_S + rng.uniform(1.5, 5)
        name = pick(at, frozen)
        label = f"SIGSTOP {name} for {frozen:.1f} s (lease {LEASE_S} s)"
        events.append((at, label, lambda n=name: run.procs.signal(n, signal.SIGSTOP)))
        events.append((at + frozen, f"SIGCONT {name}", lambda n=name: run.procs.signal(n, signal.SIGCONT)))
    return sorted(events, key=lambda e: e[0])


def run_kill(run, name):
    run.killed.add(name)
    run.procs.signal(name, signal.SIGKILL)
    proc = run.procs.get(name)
    if proc is not None:
        proc.wait()


def supervisor(run):
    """Restarts a worker that exited on its own, as a process supervisor (compose's restart
    policy) would, and notes it: only a SIGKILL of the fault plan is meant to stop one."""
    while not run.aborted.wait(1):
        for name in run.worker_names:
            proc = run.procs.get(name)
            if name not in run.killed and proc is not None and proc.poll() is not None:
                run.fault(f"{name} exited by itself (status {proc.returncode}; see logs/{name}.log): restarted")
                run.worker_exits.append(f"{name} exited with status {proc.returncode}")
                start_worker(run, name)


def fault_injector(run, events):
    """Carries out every planned event, the last ones (a SIGCONT, a restart) even after the
    workload ended; only an aborted run stops it."""
    for at, label, action in events:
        if run.aborted.wait(max(0, run.workload_t0 + at - time.monotonic())):
            return
        run.fault(label)
        try:
            action()
        except Exception as error:  # a failed fault is reported, and the run carries on
            run.fault(f"{label} FAILED: {error}")
            run.fault_errors.append(f"{label}: {error}")


def restart_redis(run, hard):
    """Stops Redis (SIGKILL: relies on appendfsync always; or SHUTDOWN: a clean stop) and starts
    it again on the same port with the same files after 2 s."""
    redis_dir = run.run_dir / "redis"
    pid = int((redis_dir / "redis.pid").read_text().strip())
    # Only our Redis: it names itself "redis-server 127.0.0.1:PORT".
    if f":{run.args.redis_port}" not in Path(f"/proc/{pid}/cmdline").read_text():
        raise ChaosError(f"pid {pid} of redis.pid is not our Redis")
    if hard:
        os.kill(pid, signal.SIGKILL)
    else:
        subprocess.run(["redis-cli", "-p", str(run.args.redis_port), "SHUTDOWN"], capture_output=True, timeout=30)
    for _ in range(200):
        if not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z":
            break
        time.sleep(0.05)
    time.sleep(2)
    run.services(f'start_redis "{redis_dir}" always {run.args.redis_port}')
    run.fault(f"Redis back on port {run.args.redis_port} (pid {(redis_dir / 'redis.pid').read_text().strip()})")


def stop_postgres(run):
    run.services(f'PG_DATA="{run.args.pg_dir}/data"; stop_postgres')


def start_postgres(run):
    run.services(f'start_postgres "{run.args.pg_dir}" off {run.args.pg_port}')


# ───────────────────────────── progress and drain ─────────────────────────────


def sim_messages(run):
    status, reply = http("GET", f"{run.waha}/_sim/messages", timeout=30)
    if status != 200:
        raise ChaosError(f"GET /_sim/messages answered {status}")
    return reply if isinstance(reply, list) else reply.get("messages", [])


def sim_charges(run):
    status, reply = http("GET", f"{run.pay}/_sim/charges", timeout=30)
    if status != 200:
        raise ChaosError(f"GET /_sim/charges answered {status}")
    return reply if isinstance(reply, list) else reply.get("charges", [])


def witness_counts(run):
    """diag.echo's witness hash: job id -> how many times it ran."""
    lines = run.redis("HGETALL", "whago:{diag}:witness")
    return {lines[i]: int(lines[i + 1]) for i in range(0, len(lines) - 1, 2)}


def state(run):
    """Where the workload stands, read from the witnesses and the database."""
    expected = {p for c in run.campaigns for p in c["phones"]}
    shop = set(run.shop_sessions)
    sent = {"+" + m["chatId"].split("@")[0] for m in sim_messages(run) if m.get("session") in shop}
    with run.lock:
        ids = set(run.echo_ids.values())
    witnessed = witness_counts(run)
    ids_run = sum(1 for i in ids if witnessed.get(i, 0) > 0)
    campaigns = run.sql("SELECT id, status FROM campaigns")
    completed = sum(1 for c in campaigns if c["status"] == "completed")
    billing = run.sql(
        """SELECT t.name AS tenant, count(*) FILTER (WHERE i.status = 'paid') AS paid,
                  (SELECT count(*) FROM payments p JOIN invoices j ON j.id = p.invoice_id
                   WHERE j.subscription_id = s.id AND p.outcome = 'pending') AS pending
           FROM subscriptions s JOIN tenants t ON t.id = s.tenant_id
           LEFT JOIN invoices i ON i.subscription_id = s.id GROUP BY t.name, s.id"""
    )
    paid = {b["tenant"]: b["paid"] for b in billing}
    pending_payments = sum(b["pending"] for b in billing)
    should_pay = [s["tenant"] for s in run.subscriptions if "Declined" not in s["method"]]
    return {
        "recipients": (len(sent & expected), len(expected)),
        "campaigns": (completed, len(run.campaigns)),
        "echo": (ids_run, len(ids)),
        "renewals": (sum(1 for t in should_pay if paid.get(t, 0) >= 1), len(should_pay)),
        "pending_payments": pending_payments,
        "exchanges_open": open_exchanges(run),
    }


def open_exchanges(run):
    """Maturation exchanges still planned or in flight whose planned moment has passed."""
    now_schedule = run.start_ms + (redis_ms(run) - run.anchor_ms) * run.form.speed
    rows = run.sql(
        f"""SELECT count(*) AS n FROM maturation_exchanges WHERE state IN ('planned', 'sending')
            AND planned_at < to_timestamp({now_schedule / 1000})"""
    )
    return rows[0]["n"]


def redis_ms(run):
    seconds, micros = run.redis("TIME")[:2]
    return int(seconds) * 1000 + int(micros) // 1000


def describe(s):
    return (
        f"recipients sent {s['recipients'][0]}/{s['recipients'][1]}, campaigns completed {s['campaigns'][0]}/"
        f"{s['campaigns'][1]}, witness jobs run {s['echo'][0]}/{s['echo'][1]}, renewals paid {s['renewals'][0]}/"
        f"{s['renewals'][1]}, payments pending {s['pending_payments']}, overdue exchanges {s['exchanges_open']}"
    )


def drained(s):
    return (
        s["recipients"][0] == s["recipients"][1]
        and s["campaigns"][0] == s["campaigns"][1]
        and s["echo"][0] == s["echo"][1]
        and s["renewals"][0] == s["renewals"][1]
        and s["pending_payments"] == 0
        and s["exchanges_open"] == 0
    )


def safe_state(run):
    try:
        return state(run)
    except (ChaosError, OSError, subprocess.TimeoutExpired, ValueError, KeyError, TypeError) as error:
        return f"(unreadable now: {str(error).splitlines()[0]})"


def run_workload(run):
    form = run.form
    events = plan_faults(run)
    say(f"workload for {form.workload_s:.0f} s with {len(events)} fault events (seed {run.args.seed})")
    run.workload_t0 = time.monotonic()
    threads = [
        threading.Thread(target=campaign_starter, args=(run,), daemon=True),
        threading.Thread(target=echo_submitter, args=(run,), daemon=True),
        threading.Thread(target=fault_injector, args=(run, events), daemon=True),
    ]
    threading.Thread(target=supervisor, args=(run,), daemon=True).start()
    for thread in threads:
        thread.start()
    while time.monotonic() < run.workload_t0 + form.workload_s:
        time.sleep(min(10, max(0.1, run.workload_t0 + form.workload_s - time.monotonic())))
        s = safe_state(run)
        say(describe(s) if isinstance(s, dict) else s)
    run.stop_workload.set()
    for thread in threads:
        thread.join()
    # The faults are over, WAHA's too: a sender that met several faults in a row is in a backoff
    # of up to a minute (the catalog's cap), and now its next attempt goes through.
    status, reply = http("POST", f"{run.waha}/_sim/config", {"fail_rate": 0, "timeout_rate": 0, "rate_limit_rate": 0})
    if status != 200:
        raise ChaosError(f"WAHA simulator config answered {status}: {reply}")
    say(f"workload and faults over (WAHA faults off too); draining (at most {form.drain_s:.0f} s)")
    deadline = time.monotonic() + form.drain_s
    last_print = 0
    while True:
        s = safe_state(run)
        if isinstance(s, dict) and drained(s):
            say("drained: " + describe(s))
            return True
        if time.monotonic() >= deadline:
            say("NOT drained in time: " + (describe(s) if isinstance(s, dict) else s))
            return False
        if time.monotonic() - last_print >= 5:
            say("draining: " + (describe(s) if isinstance(s, dict) else s))
            last_print = time.monotonic()
        time.sleep(1)


# ───────────────────────────── verdict ─────────────────────────────


@dataclass
class Line:
    """One line of the verdict: what it says, whether it holds, and the counts behind it."""

    label: str
    value: object
    ok: bool
    detail: str
    examples: list


def check_sends(run, messages):
    """Lines 1 and 2, from the WAHA simulator's log of accepted messages.

    A campaign recipient is its phone (unique across campaigns): more than one message to it is
    a duplicate, none is a miss. A warm-up message is (chip, peer chat, text), and the log's
    message ids are the ones whago records: more messages for a key than exchanges that were ever
    claimed for it is a duplicate; an exchange recorded sent under an id the log lacks (or that
    another exchange also claims) never went out. A message that went out for an exchange
    recorded skipped or failed is neither, and is shown apart."""
    shop, warmup = set(run.shop_sessions), set(run.warmup_sessions)
    expected = {p for c in run.campaigns for p in c["phones"]}
    per_phone = Counter("+" + m["chatId"].split("@")[0] for m in messages if m.get("session") in shop)
    twice = {p: n for p, n in per_phone.items() if n > 1}
    strangers = {p: n for p, n in per_phone.items() if p not in expected}

    warm_log = [m for m in messages if m.get("session") in warmup]
    rows = run.sql(
        """SELECT e.id, e.state, e.owner IS NOT NULL AS claimed, e.waha_message_id AS wid, f.session, t.chat_id, e.text
           FROM maturation_exchanges e JOIN chips f ON f.id = e.from_chip_id JOIN chips t ON t.id = e.to_chip_id"""
    )
    logged = Counter((m["session"], m["chatId"], m.get("text")) for m in warm_log)
    claimed = Counter((r["session"], r["chat_id"], r["text"]) for r in rows if r["claimed"])
    warm_twice = {k: n - claimed[k] for k, n in logged.items() if n > claimed[k]}
    log_ids = {m.get("id") for m in warm_log}
    sent_ids = Counter(r["wid"] for r in rows if r["state"] == "sent")
    warm_unsent = [
        f"exchange {r['id']} recorded sent as {r['wid']}, "
        + ("which is not in the log" if r["wid"] not in log_ids else f"an id {sent_ids[r['wid']]} exchanges claim")
        for r in rows
        if r["state"] == "sent" and (r["wid"] not in log_ids or sent_ids[r["wid"]] > 1)
    ]
    # One of the exchanges that share an id did send it.
    unsent_count = sum(1 for r in rows if r["state"] == "sent" and r["wid"] not in log_ids) + sum(
        n - 1 for wid, n in sent_ids.items() if n > 1 and wid in log_ids
    )
    misrecorded = max(0, sum(1 for m in warm_log if m.get("id") not in sent_ids) - sum(warm_twice.values()))

    duplicates = len(twice) + len(strangers) + sum(warm_twice.values())
    sent_twice = Line(
        "recipients sent twice", duplicates, duplicates == 0,
        f"campaigns: {len(per_phone)} recipients in the WAHA log in {sum(per_phone.values())} messages, "
        f"{len(twice)} of them more than once, {len(strangers)} not ours; warm-up: {len(warm_log)} messages in "
        f"the log, {sum(sent_ids.values())} exchanges recorded sent, {sum(warm_twice.values())} sent more often "
        f"than they were claimed",
        list(twice.items()) + list(strangers.items()) + list(warm_twice.items()),
    )
    missed = sorted(p for p in expected if p not in per_phone)
    statuses = run.sql("SELECT id, status FROM campaigns ORDER BY id")
    completed = sum(c["status"] == "completed" for c in statuses)
    unfinished = ", ".join(f"{c['id']}:{c['status']}" for c in statuses if c["status"] != "completed")
    lost = len(missed) + unsent_count
    missed_line = Line(
        "recipients missed", lost, lost == 0,
        f"campaigns: expected {len(expected)}, in the WAHA log {len(expected) - len(missed)}; completed "
        f"{completed}/{len(statuses)}{f' (not: {unfinished})' if unfinished else ''}; "
        f"warm-up exchanges recorded sent that never went out: {unsent_count}; (not counted: warm-up messages "
        f"that went out for exchanges recorded skipped or failed: {misrecorded})",
        missed + warm_unsent,
    )
    return [sent_twice, missed_line]


def check_charges(run):
    """Line 3, from the payment simulator's log (one entry per charge it made, once per
    idempotency key, which names the invoice). A paid invoice has exactly one successful
    charge; an unpaid one none; every card that pays has its renewal paid (else the line
    would hold for a run that charged nothing)."""
    charges = sim_charges(run)
    by_invoice, foreign = {}, []
    for charge in charges:
        match = re.match(r"whago-invoice-(\d+)-attempt-\d+", charge.get("idempotency_key") or "")
        if match:
            by_invoice.setdefault(int(match.group(1)), []).append(charge)
        else:
            foreign.append(charge)
    invoices = run.sql(
        """SELECT i.id, i.status, t.name AS tenant, (SELECT count(*) FROM payments p WHERE p.invoice_id = i.id) AS rows
           FROM invoices i JOIN subscriptions s ON s.id = i.subscription_id JOIN tenants t ON t.id = s.tenant_id"""
    )
    wrong, paid, paid_once = [], 0, 0
    for invoice in invoices:
        made = by_invoice.pop(invoice["id"], [])
        succeeded = sum(1 for charge in made if charge.get("outcome") == "succeeded")
        name = f"invoice {invoice['id']} ({invoice['tenant']}, {invoice['status']})"
        if invoice["status"] == "paid":
            paid += 1
            paid_once += succeeded == 1
            if succeeded != 1:
                wrong.append(f"{name}: {succeeded} successful charges")
        elif succeeded:
            wrong.append(f"{name}: charged {succeeded} times but not paid")
        if len(made) > invoice["rows"]:
            wrong.append(f"{name}: {len(made)} charges at the gateway for {invoice['rows']} payment rows")
    wrong += [f"{len(made)} charges for invoice {i}, which does not exist" for i, made in by_invoice.items()]
    wrong += [f"a charge without our key: {charge}" for charge in foreign]
    should_pay = [s["tenant"] for s in run.subscriptions if "Declined" not in s["method"]]
    paid_tenants = {i["tenant"] for i in invoices if i["status"] == "paid"}
    unpaid = [t for t in should_pay if t not in paid_tenants]
    wrong += [f"{t}: its card pays, but no invoice was paid" for t in unpaid]
    declined = sum(1 for charge in charges if charge.get("outcome") == "declined")
    return [Line(
        "charges per invoice", "exactly 1" if not wrong else f"{len(wrong)} wrong", not wrong,
        f"{len(invoices)} invoices, {paid} paid, {paid_once}/{paid} of them with exactly 1 successful charge; "
        f"renewals whose card pays paid {len(should_pay) - len(unpaid)}/{len(should_pay)}; "
        f"{len(charges)} charges at the gateway ({declined} declined)",
        wrong,
    )]


def check_lost(run):
    """Line 4: every witness job the API accepted ran (diag.echo counts its runs in Redis; more
    than once is at-least-once, allowed), the same idempotency key never answered two jobs, and
    no maturation exchange is still planned or in flight after its job ended."""
    witnessed = witness_counts(run)
    with run.lock:
        ids = dict(run.echo_ids)
        conflicts = list(run.echo_key_conflicts)
    never = sorted(i for i in ids.values() if witnessed.get(i, 0) == 0)
    again = sum(1 for i in ids.values() if witnessed.get(i, 0) > 1)
    orphans = orphan_exchanges(run)
    lost = len(never) + len(conflicts) + len(orphans)
    return [Line(
        "jobs lost", lost, lost == 0,
        f"witness jobs accepted {len(ids)}, ran {len(ids) - len(never)} ({again} more than once); submissions "
        f"refused and retried {run.echo_refused}; keys that answered a second job {len(conflicts)}; "
        f"warm-up exchanges left behind by their job {len(orphans)}",
        never + conflicts + orphans,
    )]


def orphan_exchanges(run):
    """Exchanges still planned or in flight whose job is no longer waiting or running."""
    orphans = []
    for row in run.sql("SELECT id FROM maturation_exchanges WHERE state IN ('planned', 'sending')"):
        job = run.redis("GET", f"whago:{{maturation}}:unique:maturation:exchange:{row['id']}")
        job_state = run.redis("HGET", f"whago:{{maturation}}:job:{job[0]}", "s") if job and job[0] else []
        # A done job's record keeps saying ready (lease layout 2): the finished set says it is done.
        if job_state and job_state[0] == "ready":
            finished = run.redis("ZSCORE", "whago:{maturation}:finished", job[0])
            if finished and finished[0]:
                job_state = ["done"]
        if not job_state or job_state[0] not in ("scheduled", "ready", "active"):
            job_id, where = job[0] if job else "none", job_state[0] if job_state else "gone"
            orphans.append(f"exchange {row['id']}: its job {job_id} is {where}")
    return orphans


# A dead letter's last error that names an outage (Redis, PostgreSQL), a crash or a lost lease:
# something the system must ride out, not a failure of the job's own.
OUTAGE = re.compile(r"postgres|redis|lease|crash|connect", re.IGNORECASE)


def check_dead(run):
    """Line 5, from the dead-letter sets (`whago dead list`), grouped by job type and error."""
    dead = json.loads(run.whago("dead", "list", "--json", "--limit", "100000") or "[]")
    dead = dead if isinstance(dead, list) else dead.get("jobs", [])
    outage = [d for d in dead if OUTAGE.search(str(d.get("last_error", ""))) or d.get("crashes", 0)]
    groups = {}
    for d in dead:
        # The error without its host, port and numbers, so alike errors group together.
        error = re.sub(r"\d+", "N", str(d.get("last_error", "")).splitlines()[0] if d.get("last_error") else "?")[:110]
        key = (d.get("type", "?"), error)
        groups[key] = groups.get(key, 0) + 1
    return [Line(
        "jobs dead for an outage", len(outage), not outage,
        f"dead letters {len(dead)}, of them for an outage, a crash or a lost lease {len(outage)}",
        [f"{n} x {t}: {e}" for (t, e), n in sorted(groups.items(), key=lambda g: -g[1])],
    )]


def verdict(run):
    """Prints the five lines and returns whether all hold."""
    lines = check_sends(run, sim_messages(run)) + check_charges(run) + check_lost(run) + check_dead(run)
    ok = all(line.ok for line in lines)
    print(f"\n  VERDICT: {'all hold' if ok else 'FAILED'}")
    for line in lines:
        print(f"  {'ok ' if line.ok else 'BAD'}  {line.label + ':':25} {line.value}")
        print(f"         {line.detail}")
        for example in line.examples[:12]:
            print(f"           - {example}")
        if len(line.examples) > 12:
            print(f"           - … {len(line.examples) - 12} more")
    print()
    return ok


def tamper(run):
    """--tamper checks the checks: one more message to a recipient, a recipient nobody sent to, a
    second successful charge for a paid invoice and a witness job that never existed. The
    verdict must then fail on lines 1 to 4."""
    campaign = run.campaigns[0]
    phone = campaign["phones"][0]
    status, _ = http(
        "POST", f"{run.waha}/api/sendText",
        {"session": run.shop_sessions[0], "chatId": phone[1:] + "@c.us", "text": "tampered"},
    )
    campaign["phones"].append(phone_numbers(random.Random(-1), 1)[0])
    paid = run.sql("SELECT i.id, i.amount_cents FROM invoices i WHERE i.status = 'paid' LIMIT 1")
    if paid:
        form = f"amount={paid[0]['amount_cents']}&currency=brl&customer=cus_x&payment_method=pm_card_visa&confirm=true"
        headers = {
            "Authorization": "Bearer sk_test_sim", "Content-Type": "application/x-www-form-urlencoded",
            "Idempotency-Key": f"whago-invoice-{paid[0]['id']}-attempt-99",
        }
        request = urllib.request.Request(f"{run.pay}/v1/payment_intents", form.encode(), headers, method="POST")
        try:
            urllib.request.urlopen(request, timeout=10).read()
        except OSError as error:
            say(f"tamper: the extra charge failed: {error}")
    with run.lock:
        run.echo_ids["tampered"] = "no-such-job"
    say(f"tampered: a second message to {phone} ({status}), an unsent recipient, an extra charge, a lost job")


# ───────────────────────────── main ─────────────────────────────


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--form", choices=sorted(FORMS), default="short")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--jobs-dir", required=True)
    parser.add_argument("--run-dir", required=True)
    parser.add_argument("--redis-port", type=int, required=True)
    parser.add_argument("--pg-url", required=True)
    parser.add_argument("--pg-dir", required=True)
    parser.add_argument("--pg-port", type=int, required=True)
    parser.add_argument("--tamper", action="store_true", help="check the checks (see tamper())")
    args = parser.parse_args()
    # scripts/chaos passes Ctrl-C and SIGTERM on as SIGTERM; either ends the run through the
    # same path, which stops every process it started.
    def interrupt(signum, frame):
        # Once: a Ctrl-C reaches both this process and scripts/chaos, which then sends SIGTERM too,
        # and the second must not cut the teardown short.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, interrupt)
    run = Run(args, FORMS[args.form])
    ok, interrupted = False, False
    try:
        setup(run)
        drained_in_time = run_workload(run)
        if args.tamper:
            tamper(run)
        ok = verdict(run)
        if not drained_in_time:
            print("  (the run did not drain within its bound: the counts above are what stood then)")
        if run.worker_exits:
            exits = [f"{n} x {e}" for e, n in Counter(run.worker_exits).items()]
            print("  workers that exited by themselves (restarted):", *exits, sep="\n    ")
        if run.fault_errors:
            print("  faults that could not be carried out:", *run.fault_errors, sep="\n    ")
            ok = False
    except ChaosError as error:
        say(f"ERROR {error}")
    except KeyboardInterrupt:
        say("interrupted")
        interrupted = True
    finally:
        run.stop_workload.set()
        run.aborted.set()
        say("stopping serve, workers and simulators")
        run.procs.stop_all()
    return 130 if interrupted else 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

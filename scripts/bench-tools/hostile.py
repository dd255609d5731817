#!/usr/bin/env python3
"""Hostile inputs against whago serve, for scripts/bench hostile.

Posts pathological bodies of growing size to the routes that parse them and prints, for each
family, the answer and the server's time per MiB: flat figures mean time grows linearly with the
input. Families: CSV recipient lists made of quotes, one huge field, many columns, many rows; JSON
nested deep, with many keys, and a 16 MiB body. The server must answer each with a clear 4xx (or
2xx for what is valid) and stay up; any 5xx or a dead server fails the run.
"""
import json, os, subprocess, sys, time, urllib.error, urllib.request

BIN, PG, RUN = os.environ["WHAGO_BIN"], os.environ["WHAGO_DATABASE_URL"], os.environ["RUN_DIR"]
REDIS_PORT = os.environ["REDIS_PORT"]
env = dict(os.environ, WHAGO_REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/0", WHAGO_DATABASE_URL=PG,
           WHAGO_JOBS_DIR=os.path.abspath("jobs"), WHAGO_LOG_LEVEL="warning")
MIB = 1 << 20


def whago(*args):
    out = subprocess.run([BIN, *args], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"hostile: whago {' '.join(args)} failed: {out.stdout[-800:]}{out.stderr[-800:]}")
    return out.stdout


def post(url, body, key, content_type, tenant="hostile"):
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": content_type, "Authorization": "Bearer " + key,
                                          "Whago-Tenant": tenant})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    except (urllib.error.URLError, ConnectionError) as e:
        # The server answered 413 and closed while the body was still being sent.
        status, text = 0, str(e).encode()
    return status, time.perf_counter() - started, text


def csv_quotes(size):  # one field of doubled quotes: "" repeated
    return b'phone,nome\n+5511999990001,"' + b'""' * (size // 2) + b'"\n'


def csv_huge_field(size):
    return b"phone,nome\n+5511999990001," + b"a" * size + b"\n"


def csv_columns(size):  # a header of many columns, one row
    n = size // 8
    return ("phone," + ",".join(f"c{i}" for i in range(n)) + "\n+5511999990001" + ",x" * n + "\n").encode()[:size * 2]


def csv_rows(size):  # as many rows as fit: past the 100,000 an upload takes, refused whole
    row = len("+5511900000000,Ana\n")
    return ("phone,nome\n" + "".join(f"+55119{(10_000_000 + i) % 100_000_000:08d},Ana\n" for i in range(size // row))).encode()


def json_deep(size):  # arrays nested as deep as the size allows
    depth = size // 2
    return b'{"name": "x", "template": "Oi", "chip_ids": [1], "recipients": ' + b"[" * depth + b"]" * depth + b"}"


def json_keys(size):
    n = size // 16
    return json.dumps({"jobs": [{"type": "diag.noop", "payload": {f"k{i}": i for i in range(n)}}]}).encode()


def main():
    whago("migrate")
    whago("plan", "set", "hostile", "--from", "enterprise", "api_requests_per_hour=unlimited", "contacts_per_list=unlimited")
    whago("tenant", "create", "hostile", "--plan", "hostile")
    key = whago("apikey", "create", "hostile", "--quiet").strip().splitlines()[-1]
    service = whago("apikey", "create", "--service", "--quiet").strip().splitlines()[-1]
    log = open(f"{RUN}/hostile-serve.log", "w")
    serve = subprocess.Popen([BIN, "serve", "--port", "0", "--log-level", "notice", "--max-body", str(17 * MIB)],
                             env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        port = None
        for _ in range(300):
            text = open(f"{RUN}/hostile-serve.log").read()
            if "listening on http://" in text:
                port = text.split("listening on http://", 1)[1].split()[0].rsplit(":", 1)[1]
                break
            time.sleep(0.1)
        if port is None:
            sys.exit("hostile: whago serve did not start; see hostile-serve.log")
        base = f"http://127.0.0.1:{port}"
        chip = urllib.request.Request(base + "/v1/chips", method="POST", headers={
            "Content-Type": "application/json", "Authorization": "Bearer " + service, "Whago-Tenant": "hostile"},
            data=json.dumps({"name": "c", "waha_url": "https://waha.example.invalid", "session": "hostile-1"}).encode())
        chip_id = json.load(urllib.request.urlopen(chip))["id"]
        draft = {"name": "hostile", "template": "Oi {{nome}}", "chip_ids": [chip_id],
                 "recipients": [{"phone": "+5511999990000", "vars": {"nome": "Ana"}}]}
        status, _, text = post(base + "/v1/campaigns", json.dumps(draft).encode(), key, "application/json")
        if status != 201:
            sys.exit(f"hostile: creating the draft campaign answered {status}: {text[:300]!r}")
        recipients = f"/v1/campaigns/{json.loads(text)['id']}/recipients"
        families = [
            ("CSV: one field of quotes", csv_quotes, recipients, "text/csv", key),
            ("CSV: one huge field", csv_huge_field, recipients, "text/csv", key),
            ("CSV: many columns", csv_columns, recipients, "text/csv", key),
            ("CSV: many rows", csv_rows, recipients, "text/csv", key),
            ("JSON: nested deep", json_deep, "/v1/campaigns", "application/json", key),
            ("JSON: many keys", json_keys, "/v1/jobs/batch", "application/json", service),
        ]
        failed = False
        print(f"{'input':28} {'size':>8} {'status':>6} {'time':>9} {'ms per MiB':>11}")
        for name, make, path, content_type, who in families:
            for mib in (1, 2, 4, 8, 16):
                body = make(mib * MIB)
                status, took, text = post(base + path, body, who, content_type)
                size = len(body) / MIB
                shown = status if status else "closed"
                print(f"{name:28} {size:7.1f}M {shown:>6} {took:8.3f}s {took * 1000 / size:10.1f}")
                if status >= 500 or (status == 0 and len(body) <= 16 * MIB) or serve.poll() is not None:
                    print(f"  FAILED: {text[:300]!r}")
                    failed = True
        alive = urllib.request.urlopen(base + "/healthz", timeout=5).status == 200
        print(f"serve still answers /healthz: {alive}")
        sys.exit(1 if failed or not alive else 0)
    finally:
        serve.terminate()
        serve.wait(10)


main()

#!/usr/bin/env python3
"""Checks that the shipped monitoring only uses metrics whago really exports.

Reads every PromQL expression of deploy/prometheus/alerts.yaml (`expr:`) and of
deploy/grafana/whago.json (panel targets and query variables), takes the metric names out of
them, and looks each one up in the Prometheus text that whago exposes. Serve and the workers
export different metrics, so several sources may be given: their union is what counts. Give
serve's /metrics and a worker's.

serve's gauges read from Redis and PostgreSQL at each scrape (whago_queue_*, whago_workers_live,
whago_chips) exist only while there is something to count: no job ever enqueued, or no
chip registered, and they are missing. Such a name is still reported missing, with the reason,
so run the check against a system that has them (a queue with jobs, a chip).

    scripts/lib/check_monitoring.py http://127.0.0.1:8080/metrics http://127.0.0.1:9464/metrics
    scripts/lib/check_monitoring.py serve.txt worker.txt          # saved exposition text
    curl -s URL | scripts/lib/check_monitoring.py - worker.txt   # - is standard input
    scripts/lib/check_monitoring.py --list                        # only print the names used

Exit status: 0 when every name is exported, 1 when some are not (each printed with the file and
the alert or panel that uses it), 2 when a file or source cannot be read.

Python 3 standard library only.
"""

import argparse
import json
import re
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Names Prometheus makes itself (per scrape, and for alerts), never exported by a target.
BUILTIN = {
    "up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling",
    "scrape_series_added", "scrape_timeout_seconds", "scrape_sample_limit", "ALERTS", "ALERTS_FOR_STATE",
}
# PromQL words that look like names but are not: aggregations (also when written `sum by (x) (...)`),
# grouping and matching clauses, set and comparison modifiers, literals.
KEYWORDS = {
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
    "quantile", "limitk", "limit_ratio", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "and", "or", "unless", "offset", "atan2", "inf", "nan",
}

# serve's scrape-time gauges, and why one can be missing (printed with it).
WHILE_REDIS = "exported only while whago serve reaches Redis and once a job has been enqueued"
WHY_MISSING = {
    "whago_dependency_up": "always exported by whago serve: is serve's /metrics among the sources?",
    "whago_queue_jobs": WHILE_REDIS,
    "whago_queue_oldest_ready_age_seconds": WHILE_REDIS,
    "whago_queue_paused": WHILE_REDIS,
    "whago_workers_live": WHILE_REDIS,
    "whago_chips": "exported only while whago serve reaches PostgreSQL and some tenant has a chip",
}

STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
NAME_MATCHER = re.compile(r'__name__\s*=\s*"((?:[^"\\]|\\.)*)"')
GRAFANA_VARIABLE = re.compile(r"\$__\w+|\$\{[^}]*\}|\$\w+|\[\[[^\]]*\]\]")
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
# Numbers and durations first, so that `1e3` or `5m` never yield a name.
TOKEN = re.compile(r"(?P<number>0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?[a-zA-Z]*|\.\d+)"
                   r"|(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?P<call>\s*\()?")


def metric_names(expr):
    """The metric names an expression reads (recording rules, with a colon, are left out)."""
    expr = GRAFANA_VARIABLE.sub("", expr)
    names = {m.group(1) for m in NAME_MATCHER.finditer(expr)}
    expr = STRING.sub('""', expr)
    expr = re.sub(r"#[^\n]*", "", expr)
    expr = re.sub(r"\{[^}]*\}", " ", expr)
    expr = re.sub(r"\[[^\]]*\]", " ", expr)
    expr = GROUPING.sub(" ", expr)
    for token in TOKEN.finditer(expr):
        name = token.group("name")
        if not name or token.group("call") or name.lower() in KEYWORDS or ":" in name:
            continue
        names.add(name)
    return names - BUILTIN


def unquote(value):
    """A one-line YAML scalar's value: quoted ('' doubles a quote), or plain (a ` #` comment ends it)."""
    value = value.strip()
    if value.startswith("'") and value.endswith("'") and len(value) > 1:
        return value[1:-1].replace("''", "'")
    if value.startswith('"') and value.endswith('"') and len(value) > 1:
        return json.loads(value)
    return re.sub(r"\s+#.*$", "", value)


def alert_expressions(path):
    """(where, expr) for each `expr:` of a rules file, read without a YAML library: block scalars
    (| and >), quoted and plain scalars, plain ones continued on more indented lines."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    found = []
    name = "?"
    for i, line in enumerate(lines):
        named = re.match(r"\s*(?:-\s+)?(?:alert|record):\s*(.+)$", line)
        if named:
            name = unquote(named.group(1))
        m = re.match(r"(\s*)(-\s+)?expr:\s*(.*)$", line)
        if not m:
            continue
        indent = len(m.group(1)) + len(m.group(2) or "")
        rest = m.group(3)
        body = []
        for following in lines[i + 1:]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            body.append(following)
        if rest[:1] in ("|", ">"):
            expr = "\n".join(body)
        else:
            expr = unquote(" ".join([rest] + [b.strip() for b in body if b.strip()]))
        found.append((name, expr))
    return found


def dashboard_expressions(path):
    """(where, expr) for each panel target and each query variable of a Grafana dashboard."""
    dashboard = json.loads(Path(path).read_text(encoding="utf-8"))
    found = []

    def walk(node, title):
        if isinstance(node, dict):
            title = node.get("title", title) if isinstance(node.get("title"), str) else title
            for target in node.get("targets") or []:
                if isinstance(target, dict) and isinstance(target.get("expr"), str):
                    found.append((f"panel '{title}'", target["expr"]))
            for key, value in node.items():
                if key != "targets":
                    walk(value, title)
        elif isinstance(node, list):
            for item in node:
                walk(item, title)

    walk(dashboard.get("panels", []), "?")
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        query = query.get("query", "") if isinstance(query, dict) else (query or variable.get("definition", ""))
        m = re.match(r"\s*(label_values|query_result)\s*\((.*)\)\s*$", query, re.S)
        if m and m.group(1) == "query_result":
            found.append((f"variable '{variable.get('name')}'", m.group(2)))
        elif m and "," in m.group(2):  # label_values(selector, label); label_values(label) reads no metric
            found.append((f"variable '{variable.get('name')}'", m.group(2).rsplit(",", 1)[0]))
    return found


# The series a family of each type is queried by (a counter in this text format: its own name).
SERIES_OF_TYPE = {"histogram": ["_bucket", "_sum", "_count"], "gaugehistogram": ["_bucket", "_gsum", "_gcount"],
                  "summary": ["", "_sum", "_count"]}


def exported_names(text):
    """Every name a query can read from exposition text: each sample's name, and for each declared
    family the series its type implies (histogram: _bucket, _sum, _count; summary: itself, _sum, _count)."""
    names = set()
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#"):
            declared = re.match(r"#\s*TYPE\s+(\S+)\s+(\S+)", line)
            if declared:
                family, kind = declared.groups()
                suffixes = SERIES_OF_TYPE.get(kind, [""])
                names.update(family + suffix for suffix in suffixes)
        elif line:
            sample = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line)
            if sample:
                names.add(sample.group(0))
    return names


def read_source(source):
    if source == "-":
        return sys.stdin.read()
    if re.match(r"https?://", source):
        with urllib.request.urlopen(source, timeout=10) as response:
            return response.read().decode("utf-8", "replace")
    return Path(source).read_text(encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="*", help="/metrics URLs, files of exposition text, or - for standard input")
    parser.add_argument("--alerts", default=str(ROOT / "deploy/prometheus/alerts.yaml"))
    parser.add_argument("--dashboard", default=str(ROOT / "deploy/grafana/whago.json"))
    parser.add_argument("--list", action="store_true", help="print the metric names used, and where, then exit")
    args = parser.parse_args(argv)
    if not args.sources and not args.list:
        parser.error("name at least one /metrics URL or exposition file (or --list)")

    used = {}  # name -> ["alerts.yaml: WhagoX", ...]
    try:
        for path, expressions in ((args.alerts, alert_expressions), (args.dashboard, dashboard_expressions)):
            for where, expr in expressions(path):
                for name in metric_names(expr):
                    label = f"{Path(path).name}: {where}"
                    if label not in used.setdefault(name, []):
                        used[name].append(label)
    except (OSError, ValueError) as error:
        print(f"check_monitoring: cannot read the monitoring files: {error}", file=sys.stderr)
        return 2
    if not used:
        print("check_monitoring: no metric name found in the alerts or the dashboard", file=sys.stderr)
        return 2
    if args.list:
        for name in sorted(used):
            print(f"{name}\t{'; '.join(used[name])}")
        return 0

    exported = set()
    for source in args.sources:
        try:
            exported |= exported_names(read_source(source))
        except (OSError, ValueError) as error:
            print(f"check_monitoring: cannot read {source}: {error}", file=sys.stderr)
            return 2
    missing = sorted(set(used) - exported)
    for name in missing:
        why = f"; {WHY_MISSING[name]}" if name in WHY_MISSING else ""
        print(f"missing: {name} (used by {'; '.join(used[name])}{why})")
    if missing:
        print(f"{len(missing)} of {len(used)} metric names used by the monitoring are not exported by "
              f"{', '.join(args.sources)}")
        return 1
    print(f"ok: all {len(used)} metric names used by the alerts and the dashboard are exported")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Reads the finished jobs of a queue from Redis (through redis-cli) and prints percentiles of
start latency (started - enqueued) or lateness (started - due), in Redis milliseconds.

usage: jobtimes.py PORT QUEUE latency|lateness
"""
import subprocess
import sys


def redis(port, commands):
    text = "".join(" ".join(c) + "\n" for c in commands)
    out = subprocess.run(["redis-cli", "-p", port, "--raw"], input=text, capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100 * (len(values) - 1)))))
    return values[k]


def main():
    port, queue, kind = sys.argv[1], sys.argv[2], sys.argv[3]
    base = "whago:{%s}:" % queue
    ids = redis(port, [["ZRANGE", base + "finished", "0", "-1"]])
    # A done job's start is in the queue's starts hash (lease layout 2); jobs an earlier version
    # finished keep it in their record's 'sa' (which a failed attempt also writes: the hash first).
    field = "e" if kind == "latency" else "d"
    rows = redis(port, [["HMGET", base + "job:" + i, field, "sa"] for i in ids])
    starts = redis(port, [["HGET", base + "starts", i] for i in ids])
    values = []
    for n in range(len(ids)):
        a, b = rows[2 * n], starts[n] or rows[2 * n + 1]
        if a and b:
            values.append(int(b) - int(a))
    print("%s over %d jobs: p50 %d ms, p99 %d ms, max %d ms" % (
        kind, len(values), percentile(values, 50), percentile(values, 99), max(values) if values else -1))


main()

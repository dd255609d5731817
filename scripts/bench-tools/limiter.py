#!/usr/bin/env python3
"""Limiter accuracy from the witness diag.echo keeps: the Redis times at which each run's tokens
existed. Prints the achieved rate against the allowed one and the worst excess over any window.

usage: limiter.py PORT QUEUE CAPACITY RATE
"""
import subprocess
import sys

port, queue, capacity, rate = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
out = subprocess.run(["redis-cli", "-p", port, "--raw", "ZRANGE", "whago:{%s}:witness:tokens" % queue, "0", "-1",
                      "WITHSCORES"], capture_output=True, text=True, check=True).stdout.split()
times = sorted(int(float(t)) for t in out[1::2])
if len(times) < 2:
    sys.exit("no witness times recorded")
# Worst excess: over every window [t_i, t_j], tokens given minus capacity plus refill.
worst, j = float("-inf"), 0
for i in range(len(times)):
    for j in range(i, len(times)):
        worst = max(worst, (j - i + 1) - (capacity + rate * (times[j] - times[i]) / 1000))
achieved = (len(times) - capacity) / ((times[-1] - times[0]) / 1000)
print("limiter: %d runs, allowed %.0f/s, achieved %.1f/s (%.1f%%), worst window excess %.3f tokens (<= 0 means never exceeded)"
      % (len(times), rate, achieved, 100 * achieved / rate, max(0.0, worst) if worst <= 1e-9 else worst))

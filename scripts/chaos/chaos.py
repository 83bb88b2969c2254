#!/usr/bin/env python3
"""Chaos, fault and fuzz scenarios against real processes on loopback (issue: prove it under load).

Each scenario starts its own redis-server and booxi-tracking processes, runs for a bounded time,
stops everything and prints a row; the process exits non-zero if a scenario's invariant failed.
    python3 scripts/chaos/chaos.py [--short] [scenario ...]
Scenarios: worker-crashes redis-restart booxi-outage ingress-sigterm fuzz soak enumeration rush-hour slow-clients failover
cluster-failover
Layout: harness.py holds the shared System, load and row/check helpers; each scenario is
scenarios/<name>.py with run(short); a new one goes there and into SCENARIOS below.
"""
import argparse
import sys
import time

from harness import FAILURES, ROWS
from scenarios import (booxi_outage, cluster_failover, enumeration, failover, fuzz, ingress_sigterm, redis_restart,
                       rush_hour, slow_clients, soak, worker_crashes)

SCENARIOS = {"worker-crashes": worker_crashes.run, "redis-restart": redis_restart.run, "booxi-outage": booxi_outage.run,
             "ingress-sigterm": ingress_sigterm.run, "fuzz": fuzz.run, "soak": soak.run, "enumeration": enumeration.run,
             "rush-hour": rush_hour.run, "slow-clients": slow_clients.run, "failover": failover.run,
             "cluster-failover": cluster_failover.run}

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--short", action="store_true", help="the bounded variants scripts/test.sh runs")
    parser.add_argument("--no-prefetch", action="store_true", help="rush-hour with the workers' prefetch off (the bench's baseline)")
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS), help="any of: " + " ".join(SCENARIOS) + " (default: all)")
    options = parser.parse_args()
    for name in options.scenarios:
        started = time.time()
        try:
            if name == "rush-hour":
                rush_hour.run(options.short, prefetch=not options.no_prefetch)
            else:
                SCENARIOS[name](options.short)
        except Exception as error:  # a scenario that cannot finish is a failure, not a crash of the suite
            FAILURES.append(f"{name}: {error!r}")
        print(f"  ({name} took {time.time() - started:.0f} s)", flush=True)
    print("\n| scenario | figures |\n|---|---|")
    for scenario, figures in ROWS:
        print(f"| {scenario} | " + ", ".join(f"{k}: {v}" for k, v in figures.items()) + " |")
    if FAILURES:
        print("\nFAILED:\n  " + "\n  ".join(FAILURES))
        sys.exit(1)
    print("\nall invariants held")

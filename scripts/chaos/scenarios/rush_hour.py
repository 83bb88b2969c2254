"""rush-hour: a morning rush against Booxi's real fair use (the arithmetic is in docs/chaos.md)."""
import concurrent.futures as futures
import json
import random
import subprocess
import threading
import time

import requests

from harness import BIN, System, check, row, slot, status_of


def run(short, prefetch=True):
    """Booxi's real fair use (5/s, 300/min, enforced by the simulator) against a morning rush:
    bookings confirmed in a burst, each visitor opening their link later (first lookup, then
    repeats), and a burst of cancels while prefetches are still queued."""
    bookings = 100 if short else 1000
    confirm_over = 10 if short else 120          # seconds over which the confirmations arrive
    opens = (20, 60) if short else (60, 1200)   # a visitor's first lookup, seconds after confirmation
    cancels = 30 if short else 100
    cancel_at = 8 if short else 100              # seconds into the run: prefetches still queued
    unlimited = "1000000"
    env = {"BXT_API_LOOKUPS_PER_MINUTE_PER_IP": unlimited, "BXT_API_LOOKUPS_PER_SECOND_GLOBAL": unlimited,
           "BXT_API_ACTIONS_PER_MINUTE_PER_IP": unlimited, "BXT_API_ACTIONS_PER_SECOND_GLOBAL": unlimited, "BXT_API_COMMAND_WAIT_MS": "0"}
    if not prefetch:
        env["BXT_WORKER_PREFETCH_CONCURRENCY"] = "0"
    system = System(env=env)
    try:
        system.start_roles("simulator", "ingress", "api")
        for name in ("w0", "w1"):
            system.start_worker(name)
        sim = f"http://127.0.0.1:{system.ports['simulator']}/simulator"
        api = f"http://127.0.0.1:{system.ports['api']}/api/tracking"
        requests.delete(f"{sim}/fair-use")
        lock = threading.Lock()
        confirmed, statuses, first = {}, {}, {"ready": 0, "total": 0, "latencies": []}
        lookups = [0]
        cancelled, cancel_replies = [], {}
        started = time.time()

        def lookup(code, is_first):
            booking = system.redis("GET", f"bxt:{{m}}:code:{code}")
            ready = system.redis("HEXISTS", f"bxt:{{m}}:booking:{booking}", "cItems") == "1"
            t0 = time.time()
            status = status_of(lambda: requests.get(f"{api}/{code}", timeout=30))
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                lookups[0] += 1
                if is_first:
                    first["total"] += 1
                    first["ready"] += ready and status == 200
                    first["latencies"].append((time.time() - t0) * 1000)

        # The timeline, planned up front: confirmations, each visitor's first lookup and repeats,
        # and the cancel burst. One loop submits each event at its time.
        rng = random.Random(11)
        events = []
        for index in range(bookings):
            at = index * confirm_over / bookings
            events.append((at, 0, index, "confirm"))
            first_at = at + rng.uniform(*opens)
            events.append((first_at, 1, index, "first"))
            for _ in range(rng.randint(1, 3)):
                events.append((first_at + rng.uniform(5, 30 if short else 300), 1, index, "repeat"))
        events.append((cancel_at, 2, -1, "burst"))
        events.sort()
        codes = {}
        prefetches_at_burst = [None]

        def confirm(index):
            created = requests.post(f"{sim}/bookings", json={"serviceId": 100, "startsOn": slot(index, 2), "firstName": "Rush"}, timeout=30).json()
            with lock:
                codes[index] = created["trackingCode"]
                confirmed[created["trackingCode"]] = time.time() - started

        def cancel(code):
            status = status_of(lambda: requests.post(f"{api}/{code}/cancel", timeout=30))
            with lock:
                cancel_replies[status] = cancel_replies.get(status, 0) + 1

        with futures.ThreadPoolExecutor(128) as pool:
            pending = []
            for at, _, index, kind in events:
                time.sleep(max(0.0, started + at - time.time()))
                if kind == "confirm":
                    pending.append(pool.submit(confirm, index))
                elif kind == "burst":
                    # Prefetches are still queued right now; the visitors are any who booked so far.
                    prefetches_at_burst[0] = int(system.redis("ZCARD", "bxt:{m}:fetch:prefetch") or 0)
                    with lock:
                        targets = rng.sample(sorted(codes.values()), min(cancels, len(codes)))
                    cancelled.extend(targets)
                    pending += [pool.submit(cancel, code) for code in targets]
                else:
                    code = codes.get(index)
                    if code:
                        pending.append(pool.submit(lookup, code, kind == "first"))
            for task in pending:
                task.result()
        prefetches_at_burst = prefetches_at_burst[0]
        system.wait(system.drained, 300)
        system.wait(lambda: all(requests.get(f"{api}/{c}").json().get("status") == "Cancelled" for c in cancelled), 120)
        fair = requests.get(f"{sim}/fair-use").json()
        calls = requests.get(f"{sim}/calls").json()
        waits = sorted(int(w) for w in system.redis("LRANGE", "bxt:{r}:booxi:waits:1", 0, -1).split())
        p99 = lambda xs: xs[min(len(xs) - 1, int(len(xs) * .99))] if xs else 0
        # A cancel may need two calls (the booking's details, then the PUT), all in the top class:
        # the last of the burst waits behind every call queued before it.
        bound_ms = 2 * cancels * 1000 // 5
        share = round(100 * first["ready"] / max(1, first["total"]), 1)
        gets = calls.get("GET /booking/{id}", 0)
        figures = dict(bookings=bookings, prefetch="on" if prefetch else "off", booxi_429=fair.get("refused"),
                       busiest_1s=fair.get("busiestSecond"), busiest_60s=fair.get("busiestMinute"), min_gap_ms=fair.get("minGapMs"),
                       too_close=fair.get("tooClose"),
                       visitor_503=statuses.get(503, 0), lookups=lookups[0], lookup_statuses=dict(sorted(statuses.items(), key=str)),
                       first_lookups_ready_pct=share, first_lookup_p99_ms=round(p99(sorted(first["latencies"])), 1),
                       cancels=len(cancelled), cancel_replies=cancel_replies, prefetches_queued_at_burst=prefetches_at_burst,
                       puts=calls.get("PUT /booking/{id}", 0), cancel_call_wait_p99_ms=p99(waits), cancel_wait_bound_ms=bound_ms,
                       booxi_calls=fair.get("charged"), calls_per_booking=round(fair.get("charged", 0) / bookings, 2),
                       gets_per_1000_lookups=round(gets * 1000 / max(1, lookups[0]), 1),
                       seconds=round(time.time() - started))
        budget = subprocess.run([BIN, "admin", "budget"], env=system.env, capture_output=True, text=True).stdout
        row("rush-hour" + ("" if prefetch else " (prefetch off)"), **figures)
        print(budget, flush=True)
        print("rush-hour-figures: " + json.dumps(figures), flush=True)
        if prefetch:
            check("rush-hour", fair.get("refused") == 0, f"{fair.get('refused')} 429s from Booxi")
            check("rush-hour", fair.get("busiestSecond", 99) <= 5 and fair.get("busiestMinute", 999) <= 300, "a fair-use window exceeded")
            check("rush-hour", statuses.get(503, 0) == 0 and 503 not in cancel_replies, "a visitor got 503")
            check("rush-hour", calls.get("PUT /booking/{id}", 0) == len(cancelled), "cancels not applied exactly once each")
            check("rush-hour", share >= 95, f"only {share}% of first lookups found the booking ready")
            check("rush-hour", p99(waits) <= bound_ms, f"cancel wait p99 {p99(waits)} ms above {bound_ms} ms")
            command_line = next((line for line in budget.splitlines() if line.startswith("command ")), "")
            check("rush-hour", "answers: " in budget and command_line.split()[2:3] == [str(len(waits))],
                  f"admin budget does not show the commands' calls: {budget!r}")
    finally:
        system.stop()

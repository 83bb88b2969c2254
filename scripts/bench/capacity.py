#!/usr/bin/env python3
"""The figures behind docs/scaling.md, measured on a real redis-server and real roles, with N
bookings tracked first (so each figure is taken at that size):
- Redis memory per tracked booking and the worker's rate, from N bookings applied by a worker
  (webhooks carrying the booking's details, as the cached copy a lookup needs), pushed straight
  onto the queue as the ingress would;
- Redis commands per webhook (ingress + worker) in the fixed shape (one at a time, as the budget
  test holds it) and a concurrent one (--senders at once), per lookup miss (API) and per cancel
  (API + worker + Booxi's budget + the webhook Booxi echoes), from INFO commandstats, commands run
  inside Lua scripts included, the idle rate of the same roles over the same time subtracted.
    python3 scripts/bench/capacity.py [--bookings 100000] [--senders 32]
    BXT_CAPACITY_DETAIL=1: each operation's commands by name on stderr
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests"))
from local_processes import WEBHOOK_HEADERS, book, role_environment, start_roles, wait_until  # noqa: E402
from redis_servers import start_redis, stop  # noqa: E402

BOOKING = json.loads((ROOT / "../shared/fixtures/booking-A00006500.json").read_text()) \
    if (ROOT / "../shared/fixtures/booking-A00006500.json").exists() else None


def body(index, prefix="cap"):
    """A booking.confirmed webhook carrying the booking's details (about the size of Booxi's)."""
    booking = {"confirmationNumber": f"C{prefix}{index}", "status": "Approved", "startsOn": "2030-03-01T15:00:00Z",
               "totalClientTimespan": {"start": "2030-03-01T15:00:00Z", "end": "2030-03-01T15:45:00Z", "duration": 45},
               "bookingMethod": "Appointment", "isCompleted": False, "staffId": 12, "merchantId": 34,
               "items": [{"serviceId": 100, "serviceName": "Haircut", "duration": 45}],
               "client": {"firstName": "Jeanne", "lastName": "Tremblay", "email": f"client{index}@example.com",
                          "trackingPage": {"viewURL": f"https://book.booxi.com/tracking/{prefix}{index:07d}code"}}}
    return json.dumps({"event": "booking.confirmed", "id": f"evt-{prefix}-{index}", "booking": booking})


def redis_cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *map(str, args)], capture_output=True, text=True).stdout


def info(port, section):
    values = {}
    for line in redis_cli(port, "INFO", section).splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            values[key] = value.strip()
    return values


def commands(port, by_name=None):
    """Total calls in INFO commandstats (commands inside scripts count too), and EVALSHA calls;
    `by_name`, a dict, receives the calls per command."""
    total = scripts = 0
    for key, value in info(port, "commandstats").items():
        calls = int(value.split("calls=")[1].split(",")[0])
        if key in ("cmdstat_info", "cmdstat_config", "cmdstat_monitor", "cmdstat_dbsize"):
            continue  # this script's own (its LLEN polls are counted in POLLS and taken off)
        total += calls
        if by_name is not None:
            by_name[key.removeprefix("cmdstat_")] = calls
        if key in ("cmdstat_evalsha", "cmdstat_eval"):
            scripts += calls
    return total, scripts


POLLS = [0]  # LLEN commands this script sent: the worker sends LLEN too, so they are counted and taken off


def drained(port):
    POLLS[0] += 1
    if redis_cli(port, "LLEN", "bxt:{q}:webhooks").strip() != "0":
        return False
    POLLS[0] += 1
    return redis_cli(port, "LLEN", "bxt:{q}:commands").strip() == "0"


def wait(condition, timeout=600):
    if not wait_until(condition, timeout):
        raise RuntimeError("timed out")


def post(url, data, headers=None):
    request = urllib.request.Request(url, data=data, method="POST", headers=headers or WEBHOOK_HEADERS)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def per_operation(port, idle_rate, run):
    """Commands per operation of `run` (which returns how many operations it made), less idle."""
    subprocess.run(["redis-cli", "-p", str(port), "CONFIG", "RESETSTAT"], capture_output=True)
    started = time.time()
    polls = POLLS[0]
    operations = run()
    by_name = {}
    total, scripts = commands(port, by_name)
    total -= POLLS[0] - polls
    elapsed = time.time() - started
    background = idle_rate * elapsed
    if os.environ.get("BXT_CAPACITY_DETAIL"):
        print(run.__name__, {name: round(calls / operations, 2) for name, calls in sorted(by_name.items(), key=lambda item: -item[1])},
              file=sys.stderr)
    return round((total - background) / operations, 1), round(scripts / operations, 1)


def resp(*parts):
    """One command in Redis' protocol, for redis-cli --pipe."""
    out = [f"*{len(parts)}\r\n".encode()]
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        out.append(f"${len(data)}\r\n".encode() + data + b"\r\n")
    return b"".join(out)


def load(port, count, prefix="cap"):
    """Pushes `count` booking.confirmed envelopes (with the booking's details) as the ingress would,
    and waits until the worker applied them all: {bytes per booking, worker rate (events/s)}."""
    before = int(info(port, "memory")["used_memory"])
    started = time.time()
    batch = 50_000
    for first in range(0, count, batch):
        data = b"".join(
            resp("LPUSH", "bxt:{q}:webhooks", json.dumps({"attempt": 0, "id": str(uuid.uuid4()), "kind": "webhook",
                                                           "payload": body(index, prefix), "receivedAt": int(time.time() * 1000)},
                                                          separators=(",", ":"), sort_keys=True))
            for index in range(first, min(first + batch, count)))
        subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=data, capture_output=True)
    wait(lambda: drained(port), timeout=3600)
    rate = count / (time.time() - started)
    time.sleep(2)
    after = int(info(port, "memory")["used_memory"])
    return round((after - before) / count), round(rate)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--senders", type=int, default=32, help="concurrent senders of the concurrent shape")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bxt-capacity-"))
    redis, port = start_redis(work / "redis")
    env, ports = role_environment(f"redis://127.0.0.1:{port}/0", BXT_LOG_LEVEL="error", BXT_WORKER_CONCURRENCY="2")
    processes = start_roles(env, ports, work)
    try:
        # Idle: the roles' own background (heartbeats, promotions, the budget's dispatcher).
        subprocess.run(["redis-cli", "-p", str(port), "CONFIG", "RESETSTAT"], capture_output=True)
        time.sleep(10)
        idle_rate = commands(port)[0] / 10

        # The data first: every figure below is taken with N bookings tracked.
        bytes_per_booking, worker_rate = load(port, options.bookings)
        keys = int(redis_cli(port, "DBSIZE").strip())
        used = int(info(port, "memory")["used_memory"])

        ingress = f"http://127.0.0.1:{ports['ingress']}/webhooks/booxi"
        api = f"http://127.0.0.1:{ports['api']}"

        def webhooks():
            # The fixed shape: one at a time, each applied before the next is sent.
            for index in range(2_000):
                assert post(ingress, body(index, "wh").encode()) == 200
                wait_until(lambda: drained(port), 10, interval=0.001)
            return 2_000

        per_webhook = per_operation(port, idle_rate, webhooks)

        def webhooks_concurrently():
            # The concurrent shape: many senders at once, as Booxi delivers in a rush.
            from concurrent.futures import ThreadPoolExecutor
            with ThreadPoolExecutor(options.senders) as pool:
                statuses = list(pool.map(lambda index: post(ingress, body(index, "wc").encode()), range(4_000)))
            assert all(status == 200 for status in statuses)
            wait(lambda: drained(port))
            return 4_000

        per_webhook_concurrent = per_operation(port, idle_rate, webhooks_concurrently)

        def lookup_misses():
            for index in range(2_000):
                urllib.request.urlopen(f"{api}/api/tracking/wh{index:07d}code").read()
            return 2_000

        per_lookup_miss = per_operation(port, idle_rate, lookup_misses)
        codes = [book(ports, hour=8 + index % 10, days=3 + index // 10) for index in range(100)]
        for code in codes:
            wait(lambda: urllib.request.urlopen(f"{api}/api/tracking/{code}").status == 200, 60)
        # Cancels one at a time (the fixed shape of docs/scaling.md#per-event-budget): the visitor
        # opens the page, then cancels; the cancel, its Booxi call and the webhook Booxi echoes
        # settle before the next. Counted from the click on, the page view left out.
        spent = scripts_spent = elapsed = done = 0
        by_name = {}
        for code in codes:
            urllib.request.urlopen(f"{api}/api/tracking/{code}").read()
            before = {}
            total_before, scripts_before = commands(port, before)
            polls = POLLS[0]
            started = time.time()
            done += post(f"{api}/api/tracking/{code}/cancel", b"") in (200, 202)
            time.sleep(0.3)
            wait(lambda: drained(port))
            after = {}
            total_after, scripts_after = commands(port, after)
            elapsed += time.time() - started
            spent += total_after - total_before - (POLLS[0] - polls)
            scripts_spent += scripts_after - scripts_before
            for name, calls in after.items():
                by_name[name] = by_name.get(name, 0) + calls - before.get(name, 0)
        if os.environ.get("BXT_CAPACITY_DETAIL"):
            print("cancels", {name: round(calls / done, 2) for name, calls in sorted(by_name.items(), key=lambda item: -item[1]) if calls},
                  file=sys.stderr)
        per_cancel = (round((spent - idle_rate * elapsed) / done, 1), round(scripts_spent / done, 1))

        print(json.dumps({
            "bookings": options.bookings, "keys": keys, "used_memory_mib": round(used / 2**20, 1),
            "bytes_per_booking": bytes_per_booking, "worker_events_per_s": worker_rate, "idle_commands_per_s": round(idle_rate, 1),
            "commands_per_webhook": per_webhook[0], "scripts_per_webhook": per_webhook[1],
            "commands_per_webhook_concurrent": per_webhook_concurrent[0],
            "commands_per_lookup_miss": per_lookup_miss[0], "scripts_per_lookup_miss": per_lookup_miss[1],
            "commands_per_cancel": per_cancel[0], "scripts_per_cancel": per_cancel[1],
        }, indent=2))
    finally:
        stop(processes)
        stop([redis])


if __name__ == "__main__":
    main()

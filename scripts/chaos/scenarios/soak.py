"""soak: webhooks, continuous lookups and a cancel every half second for 10 minutes (20 s with
--short); memory flat, queues drain, lookup p99 stable."""
import threading
import time

import requests

from harness import Load, System, check, missing_codes, row, slot


def run(short):
    duration = 20 if short else 600
    system = System(env={"BXT_API_LOOKUPS_PER_MINUTE_PER_IP": "1000000", "BXT_API_LOOKUPS_PER_SECOND_GLOBAL": "1000000",
                         "BXT_API_ACTIONS_PER_MINUTE_PER_IP": "1000000", "BXT_BOOXI_REQUESTS_PER_SECOND": "50",
                         "BXT_BOOXI_REQUESTS_PER_MINUTE": "3000", "BXT_SIMULATOR_REQUESTS_PER_SECOND": "50",
                         "BXT_SIMULATOR_REQUESTS_PER_MINUTE": "3000"})
    try:
        system.start_roles("simulator", "ingress", "api")
        system.start_worker("w0")
        time.sleep(1)
        rss_start = {name: system.rss_mib(name) for name in ("ingress", "api", "w0")}
        api = f"http://127.0.0.1:{system.ports['api']}/api/tracking"
        lookup_latencies, stop = [], threading.Event()
        def lookups():
            session = requests.Session()
            while not stop.is_set():
                started = time.time()
                session.get(f"{api}/abc123XYZ")
                lookup_latencies.append((time.time() - started) * 1000)
        threads = [threading.Thread(target=lookups, daemon=True) for _ in range(4)]
        for t in threads: t.start()
        sim = f"http://127.0.0.1:{system.ports['simulator']}/simulator"
        actions = 0
        with Load(system, 200, "soak") as load:
            end = time.time() + duration
            while time.time() < end:
                created = requests.post(f"{sim}/bookings", json={"serviceId": 102, "startsOn": slot(actions, 5)})
                if created.status_code == 200:
                    code = created.json()["trackingCode"]
                    try:
                        System.wait(lambda: requests.get(f"{api}/{code}").status_code == 200, 10)
                        requests.post(f"{api}/{code}/cancel")
                        actions += 1
                    except RuntimeError:
                        pass
                time.sleep(0.5)
        stop.set()
        for t in threads: t.join()
        system.wait(system.drained, 60)
        rss_end = {name: system.rss_mib(name) for name in ("ingress", "api", "w0")}
        half = len(lookup_latencies) // 2
        p99 = lambda xs: round(sorted(xs)[int(len(xs) * .99)], 1) if xs else 0
        row("soak", seconds=duration, webhooks=len(load.acked), lookups=len(lookup_latencies), cancels=actions,
            rss_start_mib=rss_start, rss_end_mib=rss_end, lookup_p99_first_half_ms=p99(lookup_latencies[:half]),
            lookup_p99_second_half_ms=p99(lookup_latencies[half:]), queues_drained=system.drained())
        check("soak", system.drained(), "queues did not return to zero")
        check("soak", not missing_codes(system, load.acked), "acknowledged webhooks missing")
    finally:
        system.stop()

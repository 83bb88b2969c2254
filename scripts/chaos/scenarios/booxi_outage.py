"""booxi-outage: cancels while the simulator fails or times out most calls, then while Booxi is
fully down; commands retry and succeed, exhausted ones wait in the dead letters and replay cleanly."""
import subprocess
import time

import requests

from harness import BIN, System, check, row, slot


def run(short):
    system = System(env={"BXT_RETRY_BASE_MS": "200", "BXT_RETRY_CAP_MS": "1000", "BXT_RETRY_MAX_ATTEMPTS": "8",
                         "BXT_API_COMMAND_WAIT_MS": "200", "BXT_API_ACTIONS_PER_MINUTE_PER_IP": "100000",
                         "BXT_BOOXI_REQUESTS_PER_SECOND": "200", "BXT_BOOXI_REQUESTS_PER_MINUTE": "12000",
                         "BXT_SIMULATOR_REQUESTS_PER_SECOND": "200", "BXT_SIMULATOR_REQUESTS_PER_MINUTE": "12000"})
    try:
        system.start_roles("simulator", "ingress", "api")
        system.start_worker("w0")
        sim = f"http://127.0.0.1:{system.ports['simulator']}/simulator"
        api = f"http://127.0.0.1:{system.ports['api']}/api/tracking"
        codes = []
        for i in range(25):
            codes.append(requests.post(f"{sim}/bookings", json={"serviceId": 102, "startsOn": slot(i, 3)}).json()["trackingCode"])
        for code in codes:
            system.wait(lambda: requests.get(f"{api}/{code}").status_code == 200)
        requests.put(f"{sim}/faults", json={"errorRate": 0.34, "errorStatus": 500, "timeoutRate": 0.33, "timeoutMs": 1500})
        jobs = {}
        codes, exhausted = codes[:20], codes[20:]
        for code in codes:
            response = requests.post(f"{api}/{code}/cancel")
            jobs[code] = response.json().get("statusUrl") if response.status_code == 202 else response.status_code
        time.sleep(3 if short else 10)
        requests.put(f"{sim}/faults", json={"failNext": 0})
        requests.put(f"{sim}/faults", json={"errorRate": 1, "errorStatus": 429, "retryAfterSeconds": 1})
        time.sleep(2)
        requests.delete(f"{sim}/faults")
        system.wait(system.drained, 120)
        states = [requests.get(f"http://127.0.0.1:{system.ports['api']}{url}").json().get("state") if isinstance(url, str) else "succeeded"
                  for url in jobs.values()]
        statuses = [requests.get(f"{api}/{code}").json().get("status") for code in codes]
        calls = requests.get(f"{sim}/calls").json()
        # Phase 2: Booxi down for good; the commands use up their attempts, wait in the dead-letter
        # list, and replay cleanly once Booxi is back.
        requests.put(f"{sim}/faults", json={"errorRate": 1, "errorStatus": 503})
        for code in exhausted:
            requests.post(f"{api}/{code}/cancel")
        system.wait(lambda: int(system.redis("LLEN", "bxt:{q}:dead")) == len(exhausted), 120)
        dead = int(system.redis("LLEN", "bxt:{q}:dead"))
        requests.delete(f"{sim}/faults")
        replay = subprocess.run([BIN, "admin", "dead", "replay"], env=system.env, capture_output=True, text=True).stdout.strip()
        system.wait(system.drained, 60)
        replayed = [requests.get(f"{api}/{code}").json().get("status") for code in exhausted]
        row("booxi-outage", commands=len(codes), succeeded=states.count("succeeded"), failed=states.count("failed"),
            cancelled=statuses.count("Cancelled"), booxi_puts=calls.get("PUT /booking/{id}", 0),
            exhausted_to_dead=dead, replay=replay, cancelled_after_replay=replayed.count("Cancelled"))
        check("booxi-outage", dead == len(exhausted) and replayed.count("Cancelled") == len(exhausted), "dead letters did not replay cleanly")
        check("booxi-outage", states.count("succeeded") == len(codes), f"jobs not all succeeded: {states}")
        check("booxi-outage", statuses.count("Cancelled") == len(codes), "not all bookings cancelled")
    finally:
        system.stop()

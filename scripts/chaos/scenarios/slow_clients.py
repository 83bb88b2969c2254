"""slow-clients: thousands of trickling connections (scripts/chaos/slow_client.py) while normal
clients post and look up; the edge guard keeps the listeners serving."""
import concurrent.futures as futures
import json
import subprocess
import sys
import threading
import time

import requests

from harness import ROOT, WEBHOOK_HEADERS, System, check, row, webhook


def run(short):
    """Thousands of connections from one client trickling header bytes at the ingress and the API,
    while other clients post webhooks and look up at 100/s each: the edge guard's caps and
    deadlines keep the listeners serving."""
    import http.client
    connections = 2000 if short else 20000
    seconds = 20 if short else 60
    system = System(env={"BXT_API_LOOKUPS_PER_MINUTE_PER_IP": "1000000", "BXT_API_LOOKUPS_PER_SECOND_GLOBAL": "1000000"})
    try:
        system.start_roles("simulator", "ingress", "api")
        system.start_worker("w0")
        requests.post(f"http://127.0.0.1:{system.ports['ingress']}/webhooks/booxi", headers=WEBHOOK_HEADERS,
                      data=(ROOT / "Tests/Fixtures/webhook-confirmed.json").read_bytes())
        system.wait(lambda: requests.get(f"http://127.0.0.1:{system.ports['api']}/api/tracking/abc123XYZ").status_code == 200)
        attacker = str(ROOT / "scripts/chaos/slow_client.py")
        attacks = [subprocess.Popen([sys.executable, attacker, "127.0.0.1", str(system.ports[target]), str(connections // 4), str(seconds)],
                                    stdout=subprocess.PIPE, text=True) for target in ("ingress", "ingress", "api", "api")]
        time.sleep(3)
        lock, statuses, latencies = threading.Lock(), {}, []
        body = webhook("slowok", "SLOW1")

        def normal(kind, index):
            source = "127.0.0.2" if kind == "webhook" else "127.0.0.3"
            port = system.ports["ingress" if kind == "webhook" else "api"]
            started = time.time()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
                if kind == "webhook":
                    connection.request("POST", "/webhooks/booxi", body=webhook(f"slow{index}", f"SLOW{index}"),
                                       headers=WEBHOOK_HEADERS)
                else:
                    connection.request("GET", "/api/tracking/abc123XYZ")
                status = connection.getresponse().status
                connection.close()
            except (OSError, http.client.HTTPException):
                status = "error"
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200:
                    latencies.append((time.time() - started) * 1000)

        with futures.ThreadPoolExecutor(64) as pool:
            start, index = time.time(), 0
            while time.time() - start < seconds - 5:
                for kind in ("webhook", "lookup"):
                    pool.submit(normal, kind, index)
                index += 1
                time.sleep(max(0.0, start + index / 100 - time.time()))
        results = [json.loads(attack.communicate(timeout=seconds + 60)[0].strip().splitlines()[-1]) for attack in attacks]
        closed = sorted(t for result in results for t in result["closed_after"])
        by_timeout = [t for t in closed if t >= 1]
        metrics = {}
        for role in ("ingress", "api"):
            text = requests.get(f"http://127.0.0.1:{system.ports[role + '_ops']}/metrics").text
            for line in text.splitlines():
                if line.startswith("booxi_tracking_http_refused_connections_total"):
                    reason = line.split('reason="')[1].split('"')[0]
                    metrics[f"{role}_{reason}"] = metrics.get(f"{role}_{reason}", 0) + int(float(line.split()[-1]))
        failed = sum(n for status, n in statuses.items() if status != 200)
        p99 = round(sorted(latencies)[int(len(latencies) * .99)], 1) if latencies else 0
        row("slow-clients", attack_connections=connections, attack_seconds=seconds, attempts=sum(r["opened"] for r in results),
            closed_at_once=len(closed) - len(by_timeout), closed_by_timeouts=len(by_timeout),
            timeout_close_s=f"{by_timeout[0] if by_timeout else '-'}..{by_timeout[-1] if by_timeout else '-'}",
            open_when_attack_ended=sum(r["still_open"] for r in results), normal_requests=sum(statuses.values()), normal_failed=failed,
            normal_p99_ms=p99, refusals=metrics)
        check("slow-clients", failed == 0, f"{failed} normal requests failed: {statuses}")
        check("slow-clients", all(t <= 13.5 for t in by_timeout), "a trickling connection outlived the header timeout")
    finally:
        system.stop()

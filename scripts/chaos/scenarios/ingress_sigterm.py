"""ingress-sigterm: SIGTERM to the ingress under 1,500 webhooks/s; every acknowledged webhook is
queued and the ingress exits 0."""
import json
import signal
import time

from harness import Load, System, check, row


def run(short):
    system = System()
    try:
        system.start_roles("ingress")
        with Load(system, 1500, "term") as load:
            time.sleep(2)
            system.procs["ingress"].send_signal(signal.SIGTERM)
            exit_code = system.procs["ingress"].wait(20)
            time.sleep(0.5)
        queued = set()
        for raw in system.redis("LRANGE", "bxt:{q}:webhooks", 0, -1).splitlines():
            try:
                payload = json.loads(json.loads(raw)["payload"])
                queued.add(payload["booking"]["client"]["trackingPage"]["viewURL"].rsplit("/", 1)[1])
            except Exception:
                pass
        missing = [code for code in load.acked if code not in queued]
        row("ingress-sigterm", sent=load.sent, acknowledged=len(load.acked), queued=len(queued), missing=len(missing), exit_code=exit_code)
        check("ingress-sigterm", not missing and exit_code == 0, f"{len(missing)} acknowledged missing, exit {exit_code}")
    finally:
        system.stop()

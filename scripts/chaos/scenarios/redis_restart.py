"""redis-restart: 400 webhooks/s while Redis is kill -9ed and restarted 2 s later, with
appendfsync always and everysec; nothing acknowledged is lost, and the roles reconnect by themselves."""
import signal
import time

import requests

from harness import ROOT, WEBHOOK_HEADERS, Load, System, check, missing_codes, row


def run(short):
    for mode in ("always", "everysec"):
        system = System(appendfsync=mode)
        try:
            system.start_roles("simulator", "ingress", "api")
            system.start_worker("w0")
            # The design's sample booking, known to the simulator, for an API lookup after the restart.
            requests.post(f"http://127.0.0.1:{system.ports['ingress']}/webhooks/booxi", headers=WEBHOOK_HEADERS,
                          data=(ROOT / "Tests/Fixtures/webhook-confirmed.json").read_bytes())
            with Load(system, 400, f"rr{mode}") as load:
                time.sleep(3)
                system.procs["redis"].send_signal(signal.SIGKILL); system.procs["redis"].wait()
                down_at = time.time()
                time.sleep(2)
                system.start_redis()
                up_at = time.time()
                time.sleep(4 if short else 10)
            try:
                system.wait(system.drained, 60)
            except RuntimeError:
                print("not drained:", {k: system.redis("LLEN", k) for k in ("bxt:{q}:webhooks", "bxt:{q}:commands", "bxt:{q}:dead")},
                      "held:", system.held())
                raise
            missing = missing_codes(system, load.acked)
            # The API and the worker reconnected by themselves, without a restart.
            lookup = requests.get(f"http://127.0.0.1:{system.ports['api']}/api/tracking/abc123XYZ").status_code
            check("redis-restart", lookup == 200, f"API answered {lookup} after the restart")
            row(f"redis-restart ({mode})", sent=load.sent, acknowledged=len(load.acked), status_503=load.statuses.get(503, 0),
                errors=load.statuses.get("error", 0), lost=len(missing), down_s=round(up_at - down_at, 1), api_after_restart=lookup,
                loss_window_ms=round(len(missing) / 400 * 1000))
            if mode == "always":
                check("redis-restart", not missing, f"{len(missing)} acknowledged webhooks lost with appendfsync always")
            else:
                check("redis-restart", len(missing) <= 400 * 1.5, "loss above the documented ~1 s window")
            check("redis-restart", load.statuses.get(503, 0) > 0, "no 503 while Redis was down")
        finally:
            system.stop()

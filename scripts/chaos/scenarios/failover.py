"""failover: the Sentinel-managed primary is killed under load, with ingress.replicaAcks 0 and 1."""
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from harness import Load, SentinelSet, System, check, free_port, missing_codes, row


def run(short):
    """300 webhooks/s through the ingress while the Sentinel-managed primary is killed with SIGKILL
    (and restarted once a replica was promoted, as a supervisor would: it comes back as a replica), with
    ingress.replicaAcks 0 and 1."""
    for acks in (0, 1):
        work = Path(tempfile.mkdtemp(prefix="bxt-chaos-failover-"))
        sentinel_set = SentinelSet(work / "redis")
        system = System(env={"BXT_REDIS_SENTINELS": sentinel_set.sentinels, "BXT_REDIS_SENTINEL_MASTER": sentinel_set.master,
                             "BXT_REDIS_URL": "redis://sentinel-managed/0", "BXT_INGRESS_REPLICA_ACKS": str(acks)})
        system.procs["redis"].kill()  # System's own server is not used here
        worker_port = free_port()
        try:
            system.start_roles("ingress")
            system.start("w0", "worker", "--id", "w0", env={"BXT_WORKER_PORT": str(worker_port)})
            killed_at = restarted = None
            with Load(system, 300, f"fo{acks}x") as load:
                time.sleep(3)
                old_port = sentinel_set.primary_port
                sentinel_set.kill_primary()
                killed_at = time.time()
                acked_before = len(load.acked)
                # A supervisor's restart brings back an empty server (no persistence here): before
                # the sentinels promoted the replica, it would be taken back as the primary, with
                # nothing in it. Sentinels decide in about 2 s; on a loaded machine it can take
                # longer, so the restart waits for the promotion (at least 2 s, at most 30 s).
                deadline = killed_at + 30
                while time.time() < deadline and (time.time() < killed_at + 2 or sentinel_set.current_primary_port() in (None, old_port)):
                    time.sleep(0.1)
                promoted_s = round(time.time() - killed_at, 1)
                sentinel_set.processes["primary"] = subprocess.Popen(
                    ["redis-server", "--port", str(old_port), "--bind", "127.0.0.1", "--dir", str(work / "redis" / "primary"),
                     "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                restarted = time.time()
                time.sleep(7 if short else 25)
            with load.lock:
                first_ok = next((at for at, status in load.timeline if status == 200 and at > killed_at), None)
            primary = sentinel_set.current_primary_port()
            system.redis_port = primary
            system.wait(system.drained, 60)
            missing = missing_codes(system, load.acked)
            metrics = requests.get(f"http://127.0.0.1:{worker_port}/metrics", timeout=5).text
            applied = sum(float(line.split()[-1]) for line in metrics.splitlines()
                          if line.startswith('booxi_tracking_worker_jobs_total{kind="webhook",outcome="succeeded"}'))
            mapped = system.lua_count(f"bxt:{{m}}:code:fo{acks}x*")
            row(f"failover (replicaAcks {acks})", sent=load.sent, acknowledged=len(load.acked), status_503=load.statuses.get(503, 0),
                first_200_after_kill_s=round(first_ok - killed_at, 1) if first_ok else None, acknowledged_missing=len(missing),
                applied_jobs=int(applied), mapped=mapped, processed_twice=int(applied) - mapped,
                new_primary=primary != old_port, restarted_after_s=promoted_s)
            check("failover", primary not in (None, old_port), "no failover happened")
            check("failover", first_ok is not None, "no 200 after the kill")
            # A job whose acknowledgement (LREM) was lost with the primary is processed again on the
            # new one: at-least-once, and harmless, as the apply is idempotent (a second
            # booking.confirmed changes nothing). Its effect must exist once: one record per booking.
            check("failover", mapped <= len(set(load.acked)) + load.statuses.get(503, 0), "more records than webhooks sent")
            check("failover", int(applied) - mapped <= 0.01 * mapped + 5, f"{int(applied) - mapped} webhooks processed twice")
            if acks == 1:
                check("failover", not missing, f"{len(missing)} acknowledged webhooks lost with replicaAcks 1")
        finally:
            system.stop()
            sentinel_set.stop()

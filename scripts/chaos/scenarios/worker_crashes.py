"""worker-crashes: 300 webhooks/s while a random one of 3 workers is kill -9ed every 3 s and
replaced; every acknowledged webhook is applied, and a dead worker's jobs recover within 30 s."""
import random
import signal
import threading
import time

from harness import Load, System, check, missing_codes, row


def run(short):
    system = System()
    try:
        system.start_roles("ingress")
        workers = [system.start_worker(f"w{i}") for i in range(3)]
        names, recoveries, kills, serial = [f"w{i}" for i in range(3)], [], 0, 3
        duration = 12 if short else 60
        with Load(system, 300, "crash") as load:
            end = time.time() + duration
            while time.time() < end:
                time.sleep(3)
                victim = random.choice(names)
                system.procs[victim].send_signal(signal.SIGKILL); system.procs[victim].wait()
                killed_at, kills = time.time(), kills + 1
                names.remove(victim)
                fresh = f"w{serial}"; serial += 1
                system.start_worker(fresh); names.append(fresh)
                threading.Thread(target=lambda v=victim, t=killed_at: system.wait(
                    lambda: system.held(v) == 0, 60) and recoveries.append(time.time() - t), daemon=True).start()
        system.wait(system.drained, 90)
        time.sleep(0.5)
        missing = missing_codes(system, load.acked)
        mapped = system.lua_count("bxt:{m}:code:crash*")
        row("worker-crashes", sent=load.sent, acknowledged=len(load.acked), applied=mapped, missing=len(missing), kills=kills,
            max_recovery_s=round(max(recoveries or [0]), 1), dead=system.redis("LLEN", "bxt:{q}:dead"))
        check("worker-crashes", not missing, f"{len(missing)} acknowledged webhooks not applied")
        check("worker-crashes", mapped == len(set(load.acked)) or mapped >= len(load.acked), "mapping count differs")
        check("worker-crashes", max(recoveries or [0]) <= 30, "recovery above 30 s")
    finally:
        system.stop()

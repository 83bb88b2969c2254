"""Redis Sentinel with Debian's redis-sentinel: one primary, one replica, three sentinels on
loopback. Webhooks flow through the ingress and are applied by a worker while the primary is
killed with SIGKILL; every role follows the failover without a restart and lookups answer again."""
import json
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from local_processes import WEBHOOK_HEADERS, role_environment, start_roles, wait_until
from redis_servers import SentinelSet, stop


def webhook(ports, index, tag):
    # With the booking's details, so a lookup needs no Booxi call (the simulator does not know it).
    body = json.dumps({"event": "booking.confirmed", "id": f"evt-{tag}-{index}", "booking": {
        "confirmationNumber": f"S{tag}{index}", "status": "Approved", "startsOn": "2030-01-15T15:00:00Z",
        "items": [{"serviceId": 100, "serviceName": "Haircut", "duration": 30}],
        "client": {"firstName": "F", "lastName": "L", "trackingPage": {"viewURL": f"https://book.booxi.com/tracking/{tag}code{index:05d}"}}}})
    request = urllib.request.Request(f"http://127.0.0.1:{ports['ingress']}/webhooks/booxi", data=body.encode(), method="POST",
                                     headers=WEBHOOK_HEADERS)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def deliver(ports, index, tag, deadline):
    """Delivers like Booxi: again until a 200 (or the deadline)."""
    while time.time() < deadline:
        if webhook(ports, index, tag) == 200:
            return True
        time.sleep(0.1)
    return False


def resolves(ports, tag, index):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ports['api']}/api/tracking/{tag}code{index:05d}", timeout=5) as response:
            return response.status == 200
    except (urllib.error.HTTPError, OSError):
        return False


def test_roles_follow_a_failover_without_a_restart():
    work = Path(tempfile.mkdtemp(prefix="bxt-sentinel-"))
    redis = SentinelSet(work / "redis")
    env, ports = role_environment("redis://sentinel-managed/0", BXT_REDIS_SENTINELS=redis.sentinels,
                                  BXT_REDIS_SENTINEL_MASTER=redis.master)
    processes = start_roles(env, ports, work)
    try:
        # Before: webhooks applied, replicated (WAIT), looked up.
        for index in range(30):
            assert deliver(ports, index, "a", time.time() + 10)
        assert wait_until(lambda: all(resolves(ports, "a", index) for index in range(30)), 30)
        subprocess.run(["redis-cli", "-p", str(redis.primary_port), "wait", "1", "5000"], check=True, capture_output=True)

        old_primary = redis.primary_port
        redis.kill_primary()
        killed_at = time.time()
        # During and after: Booxi keeps delivering (again on a 503) until each is acknowledged.
        first_ok = None
        for index in range(40):
            assert deliver(ports, index, "b", time.time() + 45), f"webhook b{index} never acknowledged after the failover"
            first_ok = first_ok or time.time() - killed_at
        assert redis.current_primary_port() not in (None, old_primary)
        # The worker applies them on the new primary, and the API answers from it.
        if not wait_until(lambda: all(resolves(ports, "b", index) for index in range(40)), 45):
            primary = redis.current_primary_port()
            state = {command: subprocess.run(["redis-cli", "-p", str(primary), *command.split()], capture_output=True, text=True).stdout
                     for command in ("exists bxt:{m}:code:bcode00000", "llen bxt:{q}:webhooks", "zrange bxt:{q}:workers 0 -1", "role")}
            missing = [index for index in range(40) if not resolves(ports, "b", index)]
            raise AssertionError(f"lookups did not answer again: missing {missing}; primary {primary}: {state}")
        assert all(resolves(ports, "a", index) for index in range(30)), "webhooks replicated before the kill were lost"
        # Nobody restarted, and the roles said what happened.
        assert all(process.poll() is None for process in processes)
        logs = "".join((work / f"{role}.log").read_text(errors="replace") for role in ("ingress", "worker", "api"))
        assert "Redis primary switched" in logs
        print(f"first 200 after the kill: {first_ok:.1f} s")
    finally:
        stop(processes)
        redis.stop()

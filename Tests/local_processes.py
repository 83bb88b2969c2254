"""Helpers the pytest suites share for the processes they start on loopback."""
import socket
import subprocess
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(processes):
    """Terminates processes, then kills those still running after 10 s."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_until(condition, timeout, interval=0.2):
    """Polls `condition` until it holds or `timeout` seconds pass; whether it held (checked once more at the end)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def wait_http(url, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
BIN = __import__("os").environ.get("BXT_EXECUTABLE", str(ROOT / ".build/debug/booxi-tracking"))


# The webhook token every harness configures (`BXT_WEBHOOK_TOKENS`) and sends (`x-webhook-token`):
# an ingress refuses to start without webhook authentication, and secrets shorter than 16 bytes are
# refused. The Swift tests use the same value (`testWebhookToken` in Tests/TestSupport).
WEBHOOK_TOKEN = "test-webhook-token-0123456789abcdef"
WEBHOOK_HEADERS = {"content-type": "application/json", "x-webhook-token": WEBHOOK_TOKEN}


def role_environment(redis_url, **extra):
    """What every role needs on loopback: the Redis URL, a Partner API key, the webhook token (the
    ingress requires it, the simulator's webhook sender sends it), free ports, the simulator as
    Booxi with fair use raised for tests. Returns (env, ports)."""
    import os
    ports = {name: free_port() for name in ("sim", "ingress", "ingress_ops", "worker", "api", "api_ops")}
    env = {**os.environ, "BXT_REDIS_URL": redis_url, "BOOXI_PARTNER_API_KEY": "test-key",
           "BXT_DEFAULTS_FILE": str(ROOT / "config/default.json"), "BXT_LOG_LEVEL": "notice",
           "BXT_WEBHOOK_TOKENS": WEBHOOK_TOKEN,
           "BXT_SIMULATOR_PORT": str(ports["sim"]), "BXT_SIMULATOR_WEBHOOK_URL": f"http://127.0.0.1:{ports['ingress']}/webhooks/booxi",
           "BXT_BOOXI_BASE_URL": f"http://127.0.0.1:{ports['sim']}/booking/v1", "BXT_INGRESS_PORT": str(ports["ingress"]),
           "BXT_INGRESS_OPS_PORT": str(ports["ingress_ops"]), "BXT_WORKER_PORT": str(ports["worker"]),
           "BXT_API_PORT": str(ports["api"]), "BXT_API_OPS_PORT": str(ports["api_ops"]),
           "BXT_BOOXI_REQUESTS_PER_SECOND": "100", "BXT_BOOXI_REQUESTS_PER_MINUTE": "6000",
           "BXT_SIMULATOR_REQUESTS_PER_SECOND": "100", "BXT_SIMULATOR_REQUESTS_PER_MINUTE": "6000",
           # Tests poll lookups far faster than a visitor: the per-address throttle would answer 429.
           "BXT_API_LOOKUPS_PER_MINUTE_PER_IP": "100000", "BXT_API_ACTIONS_PER_MINUTE_PER_IP": "10000", **extra}
    return env, ports


def start_roles(env, ports, work, roles=("simulator", "ingress", "worker", "api")):
    """Starts the roles as processes (logs in `work`) and waits until each answers /readyz."""
    import subprocess
    processes = [subprocess.Popen([BIN, role], env=env, stdout=open(work / f"{role}.log", "w"), stderr=subprocess.STDOUT)
                 for role in roles]
    ready = {"simulator": f"http://127.0.0.1:{ports['sim']}/healthz", "ingress": f"http://127.0.0.1:{ports['ingress_ops']}/readyz",
             "worker": f"http://127.0.0.1:{ports['worker']}/readyz", "api": f"http://127.0.0.1:{ports['api_ops']}/readyz"}
    try:
        for role in roles:
            wait_http(ready[role], timeout=60)
    except RuntimeError as error:
        logs = "\n".join(f"--- {role}\n" + (work / f"{role}.log").read_text(errors="replace")[-2000:] for role in roles)
        for process in processes:
            process.kill()
        raise RuntimeError(f"{error}\n{logs}") from None
    return processes


def book(ports, hour=10, service=100, days=4):
    """A booking in the simulator (which sends booking.confirmed to the ingress); its tracking code."""
    import json
    start = time.strftime("%Y-%m-%dT", time.gmtime(time.time() + days * 86400)) + f"{hour:02d}:00:00Z"
    request = urllib.request.Request(f"http://127.0.0.1:{ports['sim']}/simulator/bookings", method="POST",
                                     data=json.dumps({"serviceId": service, "startsOn": start, "firstName": "Ada", "lastName": "Lovelace"}).encode(),
                                     headers={"content-type": "application/json"})
    return json.load(urllib.request.urlopen(request, timeout=10))["trackingCode"]

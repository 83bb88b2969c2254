"""The shared harness for the chaos scenarios (scripts/chaos/scenarios/): the System under test
(redis-server plus booxi-tracking roles, each its own process), the webhook load generator, and the
row/check helpers every scenario reports through. chaos.py prints ROWS as the table and exits
non-zero when FAILURES is not empty."""
import concurrent.futures as futures
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests"))
from redis_servers import ClusterSet, SentinelSet  # noqa: E402,F401  (the set-ups the pytest suites use; for scenarios)
from local_processes import WEBHOOK_HEADERS, WEBHOOK_TOKEN  # noqa: E402  (the token every harness configures and sends)
BIN = os.environ.get("BXT_EXECUTABLE", str(ROOT / ".build/release/booxi-tracking"))
FAILURES = []
ROWS = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class System:
    """redis-server plus booxi-tracking roles, each its own process."""

    def __init__(self, appendfsync="everysec", env=None):
        self.work = Path(tempfile.mkdtemp(prefix="bxt-chaos-"))
        self.redis_port = free_port()
        self.appendfsync = appendfsync
        self.procs = {}
        self.ports = {name: free_port() for name in ("ingress", "api", "simulator", "ingress_ops", "api_ops")}
        self.env = {**os.environ, "BXT_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
                    "BXT_DEFAULTS_FILE": str(ROOT / "config/default.json"), "BOOXI_PARTNER_API_KEY": "chaos-key",
                    # The ingress refuses to start without webhook authentication; the simulator sends the first token.
                    "BXT_WEBHOOK_TOKENS": WEBHOOK_TOKEN,
                    "BXT_LOG_LEVEL": "warning", "BXT_INGRESS_PORT": str(self.ports["ingress"]), "BXT_INGRESS_HOST": "127.0.0.1",
                    "BXT_API_PORT": str(self.ports["api"]), "BXT_API_HOST": "127.0.0.1",
                    "BXT_INGRESS_OPS_PORT": str(self.ports["ingress_ops"]), "BXT_API_OPS_PORT": str(self.ports["api_ops"]), "BXT_SIMULATOR_PORT": str(self.ports["simulator"]),
                    "BXT_SIMULATOR_WEBHOOK_URL": f"http://127.0.0.1:{self.ports['ingress']}/webhooks/booxi",
                    "BXT_BOOXI_BASE_URL": f"http://127.0.0.1:{self.ports['simulator']}/booking/v1",
                    "BXT_WORKER_HEARTBEAT_TTL_MS": "3000", "BXT_WORKER_REAPER_INTERVAL_MS": "1000",
                    "BXT_SIMULATOR_SEED_FILE": str(ROOT / "config/simulator-seed.json"), **(env or {})}
        self.start_redis()

    def start_redis(self):
        self.procs["redis"] = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--dir", str(self.work), "--save", "",
             "--appendonly", "yes", "--appendfsync", self.appendfsync], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait(lambda: self.redis("PING") == "PONG")

    def redis(self, *args):
        result = subprocess.run(["redis-cli", "-p", str(self.redis_port), *map(str, args)], capture_output=True, text=True)
        return result.stdout.strip()

    def start(self, name, *args, env=None):
        log = open(self.work / f"{name}.log", "w")
        self.procs[name] = subprocess.Popen([BIN, *args], env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT)
        return self.procs[name]

    def start_roles(self, *roles):
        """Starts each HTTP role (simulator, ingress, api) and waits until it answers."""
        for role in roles:
            self.start(role, role)
            self.healthy(self.ports[role])

    def start_worker(self, name):
        return self.start(name, "worker", "--id", name, env={"BXT_WORKER_PORT": str(free_port())})

    def healthy(self, port, path="/healthz"):
        self.wait(lambda: requests.get(f"http://127.0.0.1:{port}{path}", timeout=1).status_code == 200)

    @staticmethod
    def wait(condition, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if condition():
                    return True
            except Exception:
                pass
            time.sleep(0.05)
        raise RuntimeError("timed out waiting")

    def rss_mib(self, name):
        try:
            return int(Path(f"/proc/{self.procs[name].pid}/status").read_text().split("VmRSS:")[1].split()[0]) // 1024
        except Exception:
            return -1

    def lua_count(self, pattern):
        return int(self.redis("EVAL", f"return #redis.call('KEYS', '{pattern}')", 0) or 0)

    def held(self, worker=""):
        """Jobs in the processing lists of a worker's lanes (of every worker when empty)."""
        pattern = f"bxt:{{q}}:processing:{worker}-*" if worker else "bxt:{q}:processing:*"
        return int(self.redis("EVAL", "local n=0 for _,k in ipairs(redis.call('KEYS',ARGV[1])) do n=n+redis.call('LLEN',k) end return n", 0, pattern) or -1)

    def drained(self):
        return self.redis("LLEN", "bxt:{q}:webhooks") == "0" and self.redis("LLEN", "bxt:{q}:commands") == "0" \
            and self.redis("ZCARD", "bxt:{q}:delayed") == "0" and self.held() == 0

    def stop(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def slot(index, first_day):
    """The index-th free half-hour from 09:00 UTC, 16 a day, starting first_day days from now."""
    day = time.strftime("%Y-%m-%dT", time.gmtime(time.time() + (first_day + index // 16) * 86400))
    return day + f"{9 + (index % 16) // 2:02d}:{(index % 2) * 30:02d}:00Z"


def webhook(code, booking):
    return json.dumps({"event": "booking.confirmed", "booking": {"confirmationNumber": booking, "status": "Approved",
                       "client": {"firstName": "C", "trackingPage": {"viewURL": f"https://book.booxi.com/tracking/{code}"}}}})


class Load:
    """Posts unique booking.confirmed webhooks at a steady rate; remembers which were acknowledged."""

    def __init__(self, system, rate, prefix):
        self.system, self.rate, self.prefix = system, rate, prefix
        self.acked, self.statuses, self.latencies, self.timeline = [], {}, [], []
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def post(self, index):
        code = f"{self.prefix}{index}"
        started = time.time()
        try:
            response = requests.post(f"http://127.0.0.1:{self.system.ports['ingress']}/webhooks/booxi", data=webhook(code, f"{self.prefix.upper()}{index}"),
                                     headers=WEBHOOK_HEADERS, timeout=5)
            status = response.status_code
        except requests.RequestException:
            status = "error"
        with self.lock:
            self.timeline.append((time.time(), status))
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 200:
                self.acked.append(code)
                self.latencies.append((time.time() - started) * 1000)

    def run(self):
        with futures.ThreadPoolExecutor(32) as pool:
            index, start = 0, time.time()
            while not self.stop_flag.is_set():
                due = start + index / self.rate
                if due > time.time():
                    time.sleep(max(0.0, due - time.time()))
                pool.submit(self.post, index)
                index += 1
        self.sent = index

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        self.thread.join()


def check(name, condition, detail):
    if not condition:
        FAILURES.append(f"{name}: {detail}")


def row(scenario, **figures):
    ROWS.append((scenario, figures))
    print(f"{scenario}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


def missing_codes(system, codes):
    missing = []
    for chunk in range(0, len(codes), 500):
        part = codes[chunk:chunk + 500]
        script = "local n={} for i,k in ipairs(KEYS) do if redis.call('EXISTS',k)==0 then table.insert(n,k) end end return n"
        out = system.redis("EVAL", script, len(part), *[f"bxt:{{m}}:code:{c}" for c in part])
        missing += [line for line in out.splitlines() if line]
    return missing


def status_of(request):
    """The HTTP status of a request, or "error" when it got no answer."""
    try:
        return request().status_code
    except requests.RequestException:
        return "error"

"""The public listeners against slow, idle, too many and oversized clients, over real processes on
loopback: raw sockets for the slow ones, Python's standard http.client for the oversized head."""
import http.client
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from local_processes import WEBHOOK_TOKEN, free_port, stop, wait_http

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("BXT_EXECUTABLE", str(ROOT / ".build/debug/booxi-tracking"))


@pytest.fixture(scope="module")
def edge():
    work = Path(tempfile.mkdtemp(prefix="bxt-edge-"))
    ports = {name: free_port() for name in ("redis", "ingress", "ingress_ops", "api", "api_ops")}
    redis = subprocess.Popen(["redis-server", "--port", str(ports["redis"]), "--save", "", "--dir", str(work)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {**os.environ, "BXT_REDIS_URL": f"redis://127.0.0.1:{ports['redis']}/0", "BOOXI_PARTNER_API_KEY": "edge-test-key",
           "BXT_DEFAULTS_FILE": str(ROOT / "config/default.json"), "BXT_LOG_LEVEL": "notice",
           "BXT_WEBHOOK_TOKENS": WEBHOOK_TOKEN,
           "BXT_INGRESS_HOST": "127.0.0.1", "BXT_INGRESS_PORT": str(ports["ingress"]), "BXT_INGRESS_OPS_PORT": str(ports["ingress_ops"]),
           "BXT_API_HOST": "127.0.0.1", "BXT_API_PORT": str(ports["api"]), "BXT_API_OPS_PORT": str(ports["api_ops"])}
    for role in ("ingress", "api"):
        key = role.upper()
        env.update({f"BXT_{key}_EDGE_HEADER_TIMEOUT_MS": "600", f"BXT_{key}_EDGE_BODY_TIMEOUT_MS": "600",
                    f"BXT_{key}_EDGE_IDLE_TIMEOUT_MS": "800", f"BXT_{key}_EDGE_MAX_CONNECTIONS_PER_ADDRESS": "4",
                    f"BXT_{key}_EDGE_MAX_HEADER_BYTES": "2048"})
    procs = [redis] + [subprocess.Popen([BIN, role], env=env, stdout=open(work / f"{role}.log", "w"), stderr=subprocess.STDOUT)
                       for role in ("ingress", "api")]
    try:
        for port in ("ingress", "api"):
            wait_http(f"http://127.0.0.1:{ports[port]}/healthz")
        yield {**ports, "work": work}
    finally:
        stop(procs)


def connect(port, source="127.0.0.1"):
    sock = socket.socket()
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def closed_after(sock, trickle=None, limit=5.0):
    """Seconds until the server closes `sock`, sending `trickle` bytes every 0.2 s meanwhile."""
    started = time.time()
    sock.settimeout(0.2)
    while time.time() - started < limit:
        try:
            if sock.recv(4096) == b"":
                return time.time() - started
        except socket.timeout:
            pass
        except ConnectionResetError:
            return time.time() - started
        if trickle:
            try:
                sock.sendall(trickle)
            except (BrokenPipeError, ConnectionResetError):
                return time.time() - started
    return None


def metric(port, reason, listener):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
    prefix = f'booxi_tracking_http_refused_connections_total{{listener="{listener}",reason="{reason}"}}'
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix))


@pytest.mark.parametrize("role", ["ingress", "api"])
def test_a_head_trickled_a_line_a_time_is_closed_at_the_header_timeout(edge, role):
    before = metric(edge[f"{role}_ops"], "header_timeout", role)
    sock = connect(edge[role], "127.0.0.11")
    sock.sendall(b"POST /webhooks/booxi HTTP/1.1\r\nHost: x\r\n")
    seconds = closed_after(sock, trickle=b"X-Slow: 1\r\n")
    assert seconds is not None and 0.4 <= seconds <= 1.5, seconds
    assert metric(edge[f"{role}_ops"], "header_timeout", role) == before + 1


def test_a_body_trickled_is_closed_at_the_body_timeout(edge):
    sock = connect(edge["ingress"], "127.0.0.12")
    # With the token, so the ingress reads the body (it may refuse an unauthenticated one before).
    sock.sendall(b"POST /webhooks/booxi HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n"
                 + f"X-Webhook-Token: {WEBHOOK_TOKEN}\r\n\r\n{{".encode())
    seconds = closed_after(sock, trickle=b" ")
    assert seconds is not None and 0.4 <= seconds <= 1.5, seconds


def test_an_idle_keep_alive_connection_is_closed(edge):
    sock = connect(edge["api"], "127.0.0.13")
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    sock.settimeout(2)
    assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    seconds = closed_after(sock)
    assert seconds is not None and 0.5 <= seconds <= 1.6, seconds


def test_the_per_address_cap_refuses_only_that_address(edge):
    held = [connect(edge["api"], "127.0.0.14") for _ in range(4)]
    time.sleep(0.1)
    fifth = connect(edge["api"], "127.0.0.14")
    refused_in = closed_after(fifth, limit=0.5)
    assert refused_in is not None and refused_in < 0.3, refused_in
    # Another client is served meanwhile.
    other = connect(edge["api"], "127.0.0.15")
    other.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    other.settimeout(2)
    assert other.recv(4096).startswith(b"HTTP/1.1 200")
    for sock in held:
        sock.close()
    time.sleep(0.2)
    again = connect(edge["api"], "127.0.0.14")
    again.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    again.settimeout(2)
    assert again.recv(4096).startswith(b"HTTP/1.1 200")
    assert metric(edge["api_ops"], "address_full", "api") >= 1
    # Refusals are logged once per client a minute, not once per connection.
    for _ in range(5):
        extra = [connect(edge["api"], "127.0.0.16") for _ in range(6)]
        time.sleep(0.05)
        for sock in extra:
            sock.close()
    time.sleep(0.3)
    lines = [line for line in (edge["work"] / "api.log").read_text().splitlines() if "connection refused" in line and "127.0.0.16" in line]
    assert len(lines) == 1, lines


@pytest.mark.parametrize("role", ["ingress", "api"])
def test_an_oversized_head_gets_431_in_json(edge, role):
    connection = http.client.HTTPConnection("127.0.0.1", edge[role], timeout=5)
    connection.request("GET", "/healthz", headers={"X-Large": "x" * 4096})
    response = connection.getresponse()
    body = json.loads(response.read())
    assert response.status == 431 and body["code"] == "headers_too_large" and "error" in body
    assert response.getheader("content-type").startswith("application/json")
    # A head within the limit is served as usual.
    connection = http.client.HTTPConnection("127.0.0.1", edge[role], timeout=5)
    connection.request("GET", "/healthz", headers={"X-Small": "x" * 512})
    assert connection.getresponse().status == 200

"""Redis over TLS (`rediss://`), against a real redis-server with `--tls-port` and certificates
made by openssl here: every role works through it, and each certificate problem is named, fast."""
import json
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from local_processes import BIN, book, role_environment, start_roles, wait_http
from redis_servers import ClusterSet, make_certificates, start_redis, stop


@pytest.fixture(scope="module")
def certificates():
    return make_certificates(Path(tempfile.mkdtemp(prefix="bxt-tls-")) / "certs")


@pytest.fixture(scope="module")
def tls_server(certificates):
    """A TLS-only server that requires client certificates."""
    process, port = start_redis(certificates.parent / "redis", tls=(certificates / "server.crt", certificates / "server.key",
                                                                    certificates / "ca.crt", True))
    yield port
    stop([process])


def tls_env(certificates, port, host="localhost", **extra):
    return {"BXT_REDIS_TLS_CA_FILE": str(certificates / "ca.crt"), "BXT_REDIS_TLS_CERT_FILE": str(certificates / "client.crt"),
            "BXT_REDIS_TLS_KEY_FILE": str(certificates / "client.key"), **extra}, f"rediss://{host}:{port}/0"


def check(url, **env):
    """`admin check` against `url`: (exit status, stderr, seconds)."""
    import os
    started = time.time()
    result = subprocess.run([BIN, "admin", "check"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "BXT_REDIS_URL": url, **env})
    return result.returncode, result.stdout + result.stderr, time.time() - started


def test_every_role_works_over_tls(certificates, tls_server):
    work = certificates.parent / "roles"
    work.mkdir(exist_ok=True)
    extra, url = tls_env(certificates, tls_server)
    env, ports = role_environment(url, **extra)
    processes = start_roles(env, ports, work)
    try:
        code = book(ports)
        wait_http(f"http://127.0.0.1:{ports['api']}/api/tracking/{code}", timeout=30)
        view = json.load(urllib.request.urlopen(f"http://127.0.0.1:{ports['api']}/api/tracking/{code}"))
        assert view["trackingCode"] == code and view["client"]["firstName"] == "Ada"
        # A command: the API's enqueue, the worker's blocking lane and Booxi's budget, all over TLS.
        cancel = urllib.request.Request(f"http://127.0.0.1:{ports['api']}/api/tracking/{code}/cancel", method="POST", data=b"")
        assert json.load(urllib.request.urlopen(cancel, timeout=30))["status"] == "Cancelled"
        # The API's key tracking connection is over TLS too: its lookups come from memory.
        for _ in range(3):
            urllib.request.urlopen(f"http://127.0.0.1:{ports['api']}/api/tracking/{code}").read()
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{ports['api_ops']}/metrics").read().decode()
        assert "booxi_tracking_api_lookup_cache_tracking 1" in metrics
        assert 'booxi_tracking_api_lookup_cache_total{result="hit"}' in metrics
    finally:
        stop(processes)
    # Nothing but TLS was possible: the server has no plain port.
    assert "Error" not in (work / "api.log").read_text()


def test_a_redis_cluster_over_tls(certificates):
    """A 3-primary, 3-replica Cluster speaking TLS only (clients, bus, replication): every role
    learns the map and talks to each node over TLS, verifying the certificates (the nodes announce
    127.0.0.1, the certificates name localhost: `redis.tls.serverName`)."""
    cluster = ClusterSet(certificates.parent / "cluster", certificates=certificates)
    work = certificates.parent / "cluster-roles"
    work.mkdir(exist_ok=True)
    extra, _ = tls_env(certificates, 0, BXT_REDIS_CLUSTER_SEEDS=cluster.seeds, BXT_REDIS_TLS_SERVER_NAME="localhost")
    env, ports = role_environment("rediss://cluster-managed/0", **extra)
    processes = start_roles(env, ports, work)
    try:
        codes = [book(ports, hour=hour) for hour in (10, 11, 12)]
        for code in codes:
            wait_http(f"http://127.0.0.1:{ports['api']}/api/tracking/{code}", timeout=30)
        cancel = urllib.request.Request(f"http://127.0.0.1:{ports['api']}/api/tracking/{codes[0]}/cancel", method="POST", data=b"")
        assert json.load(urllib.request.urlopen(cancel, timeout=30))["status"] == "Cancelled"
        # The bookings' keys are on more than one node, each reached over TLS.
        holding = [port for port in cluster.primary_ports() if cluster.cli("DBSIZE", port=port) not in ("", "0")]
        assert len(holding) >= 2
        # Key tracking runs on every primary, over TLS too.
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{ports['api_ops']}/metrics").read().decode()
        assert "booxi_tracking_api_lookup_cache_tracking 1" in metrics
    finally:
        stop(processes)
        cluster.stop()


def test_admin_check_over_tls(certificates, tls_server):
    extra, url = tls_env(certificates, tls_server)
    status, output, _ = check(url, **extra)
    assert status == 0 and "redis: reachable" in output and "tls:localhost" in output


@pytest.mark.parametrize("problem", ["unknown CA", "host name", "no client certificate", "plain TCP", "expired"])
def test_each_certificate_problem_is_named_without_a_hang(certificates, tls_server, problem):
    extra, url = tls_env(certificates, tls_server)
    servers = []
    try:
        if problem == "unknown CA":
            extra["BXT_REDIS_TLS_CA_FILE"] = str(certificates / "other-ca.crt")
            expected = "not signed by a trusted CA"
        elif problem == "host name":
            extra["BXT_REDIS_TLS_SERVER_NAME"] = "redis.example.com"
            expected = "does not name 'redis.example.com'"
        elif problem == "no client certificate":
            del extra["BXT_REDIS_TLS_CERT_FILE"], extra["BXT_REDIS_TLS_KEY_FILE"]
            expected = "requires a client certificate"
        elif problem == "plain TCP":
            process, port = start_redis(certificates.parent / "plain")
            servers.append(process)
            url = f"rediss://127.0.0.1:{port}/0"
            extra["BXT_REDIS_TLS_VERIFY"] = "chain"
            expected = "plain-TCP port behind a rediss:// URL"
        else:
            process, port = start_redis(certificates.parent / "expired", tls=(certificates / "expired.crt", certificates / "server.key",
                                                                              certificates / "ca.crt", False))
            servers.append(process)
            url = f"rediss://localhost:{port}/0"
            expected = "certificate expired on 2020-02-01"
        status, output, seconds = check(url, **extra)
        assert status == 1, output
        assert expected in output, output
        assert "Usage:" not in output and seconds < 15
    finally:
        stop(servers)


def test_tls_settings_without_rediss_are_a_configuration_error(certificates):
    status, output, _ = check("redis://127.0.0.1:6379/0", BXT_REDIS_TLS_CA_FILE=str(certificates / "ca.crt"))
    assert status == 78 and "redis.tls.* is set, but the URL is not rediss://" in output
    status, output, _ = check("rediss://127.0.0.1:6379/0", BXT_REDIS_TLS_CA_FILE="/nonexistent/ca.crt")
    assert status == 78 and "redis.tls.caFile" in output and "cannot read" in output

"""Hostile input against the running roles, end to end (issue #26): real processes on loopback
(redis-server, the simulator as Booxi, an ingress with a token, a second ingress with the Standard
Webhooks signature preset, a worker, the API and the console).

What is sent: extreme and non-ASCII numbers in every numeric header, query parameter and JSON
field; signature candidate floods; 2 KiB, NUL, invalid UTF-8 and traversal codes on every route;
concurrent wrong passwords at the console. For each request: a 4xx with the one JSON error form
`{"error", "code"}`, the processes still up (and answering /healthz), nothing queued (the
ingresses' accepted counters, the queue lists and the command jobs unchanged). Bodies that are
authenticated and well-formed JSON are the worker's to judge (the ingress queues what Booxi sends):
there the worker must stay up, drain the queue and dead-letter what it cannot apply, with a reason.

Requests go through http.client, which sends a path byte for byte (percent-escapes such as `%2e`
are not normalised away as a URL library may)."""
import base64
import concurrent.futures as futures
import hashlib
import hmac
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from local_processes import (BIN, WEBHOOK_TOKEN, book, free_port, role_environment, start_roles, stop, wait_http,
                             wait_until)
from redis_servers import start_redis

PASSWORD = "a long console password"
SIGNING_SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
LOGIN_LIMIT = 5  # console.loginFailuresPerUser

# Numbers as an attacker writes them: past Int64 both ways, other scripts' digits, signs, spaces,
# exponents, hexadecimal, nothing at all.
HOSTILE_NUMBERS = ["-9223372036854775808", "-9223372036854775809", "9223372036854775807", "9223372036854775808",
                   "99999999999999999999999", "١٢٣", "１２３", "+1", " 1", "1 ", "1e3", "0x10", "", "-1", "NaN", "Infinity",
                   "1e308", "-1e308", "1.5"]
# Path segments, already percent-encoded as they go on the wire.
HOSTILE_CODES = {
    "2KiB": "A" * 2048,
    "2KiB-escaped": "%41" * 700,
    "nul": "abcd%00efgh",
    "nul-alone": "%00",
    "invalid-utf8": "abcd%C3%28",
    "ff": "%FF%FE%FD%FC",
    "overlong-utf8": "%C0%AE%C0%AE",
    "traversal": "..%2F..%2Fetc%2Fpasswd",
    "dots": "%2e%2e",
    "dots-traversal": "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "backslash": "..%5C..%5Cwindows",
    "bidi": "abcd%E2%80%AE",
    "emoji": "%F0%9F%98%80" * 4,
    "crlf": "abcd%0D%0AX-Injected:%201",
    "quote": "abcd%22%3Cscript%3E",
    "too-short": "abc",
    "too-long": "a" * 129,
}
# Query values, already percent-encoded.
HOSTILE_QUERY_VALUES = ["%00", "%C3%28", "%FF", "..%2F..%2Fetc%2Fpasswd", "%2e%2e", "A" * 2048]


def quote(text):
    from urllib.parse import quote as q
    return q(text, safe="")


# --- the system ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def system():
    work = Path(tempfile.mkdtemp(prefix="bxt-hostile-"))
    redis, redis_port = start_redis(work / "redis")
    digest = subprocess.run([BIN, "console", "hash-password"], input=PASSWORD + "\n", capture_output=True, text=True,
                            check=True).stdout.strip()
    console_port = free_port()
    env, ports = role_environment(f"redis://127.0.0.1:{redis_port}/0", BXT_LOG_LEVEL="warning",
                                  BXT_CONSOLE_USERS=f"ops:{digest},victim:{digest}", BXT_CONSOLE_PORT=str(console_port))
    processes = {"redis": redis}
    try:
        for role, process in zip(("simulator", "ingress", "worker", "api"), start_roles(env, ports, work)):
            processes[role] = process
        # The second ingress: Standard Webhooks signatures, and no token (the signature is its only form).
        signed, signed_ops = free_port(), free_port()
        signed_env = {**env, "BXT_INGRESS_PORT": str(signed), "BXT_INGRESS_OPS_PORT": str(signed_ops), "BXT_WEBHOOK_TOKENS": "",
                      "BXT_INGRESS_SIGNATURE_ENABLED": "true", "BXT_INGRESS_SIGNATURE_PRESET": "standardWebhooks",
                      "BXT_WEBHOOK_SIGNING_SECRETS": SIGNING_SECRET}
        processes["signed"] = subprocess.Popen([BIN, "ingress"], env=signed_env, stdout=open(work / "ingress-signed.log", "w"),
                                               stderr=subprocess.STDOUT)
        processes["console"] = subprocess.Popen([BIN, "console"], env=env, stdout=open(work / "console.log", "w"),
                                                stderr=subprocess.STDOUT)
        wait_http(f"http://127.0.0.1:{signed_ops}/readyz", timeout=60)
        wait_http(f"http://127.0.0.1:{console_port}/healthz", timeout=60)
        code = book(ports)
        assert wait_until(lambda: request(ports["api"], "GET", f"/api/tracking/{code}")[0] == 200, 60), "the booking never resolved"
        starts = {role: ([BIN, role], env, f"{role}.log") for role in ("simulator", "ingress", "worker", "api", "console")}
        starts["signed"] = ([BIN, "ingress"], signed_env, "ingress-signed.log")
        yield {"ports": {**ports, "signed": signed, "signed_ops": signed_ops, "console": console_port, "redis": redis_port},
               "processes": processes, "work": work, "code": code, "starts": starts}
    finally:
        stop(list(processes.values()))


@pytest.fixture(autouse=True)
def revive(system):
    """After a test that stopped a process (and so failed), the rest of the module starts again from
    running processes and empty queues: a job that crashed the worker would crash the next one too."""
    yield
    dead = [name for name, process in system["processes"].items() if process.poll() is not None and name != "redis"]
    if not dead:
        return
    for pattern in ("bxt:{q}:webhooks", "bxt:{q}:commands", "bxt:{q}:delayed", "bxt:{q}:processing:*"):
        redis_cli(system, "EVAL", "for _,k in ipairs(redis.call('KEYS',ARGV[1])) do redis.call('DEL',k) end return 0", 0, pattern)
    for name in dead:
        command, env, log = system["starts"][name]
        with open(system["work"] / log, "a") as out:
            out.write(f"\n--- restarted by the hostile suite after exit {system['processes'][name].returncode}\n")
        system["processes"][name] = subprocess.Popen(command, env=env, stdout=open(system["work"] / log, "a"), stderr=subprocess.STDOUT)
    for name in dead:
        wait_http(f"http://127.0.0.1:{system['ports'][HEALTH[name]]}/healthz", timeout=60)


def request(port, method, path, headers=None, body=None, source="127.0.0.1", timeout=30):
    """One request on its own connection: (status, headers, body bytes); status 0 if the server
    closed the connection without an answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            # Other scripts' digits go as UTF-8 bytes (http.client would encode Latin-1).
            connection.putheader(name, value if value.isascii() else value.encode())
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
        return 0, {}, b""
    finally:
        connection.close()


def raw(port, data, timeout=10):
    """Bytes on a socket as they are; the status line's code, or 0 if the server closed without one."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        try:
            while b"\r\n" not in received:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                received += chunk
        except (ConnectionError, socket.timeout):
            pass
    parts = received.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def redis_cli(system, *args):
    return subprocess.run(["redis-cli", "-p", str(system["ports"]["redis"]), *map(str, args)], capture_output=True,
                          text=True).stdout.strip()


def metric(port, name):
    text = request(port, "GET", "/metrics")[2].decode()
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name) and not line.startswith("#"))


def queued(system):
    """What would show that something was queued: the ingresses' accepted and duplicate counters,
    the lists' lengths and the command jobs."""
    ports = system["ports"]
    return {
        "ingress": metric(ports["ingress_ops"], "booxi_tracking_ingress_webhooks_accepted_total")
        + metric(ports["ingress_ops"], "booxi_tracking_ingress_webhooks_duplicate_total"),
        "signed": metric(ports["signed_ops"], "booxi_tracking_ingress_webhooks_accepted_total")
        + metric(ports["signed_ops"], "booxi_tracking_ingress_webhooks_duplicate_total"),
        "webhooks": redis_cli(system, "LLEN", "bxt:{q}:webhooks"),
        "commands": redis_cli(system, "LLEN", "bxt:{q}:commands"),
        "jobs": redis_cli(system, "EVAL", "return #redis.call('KEYS', ARGV[1])", 0, "bxt:{q}:job:*"),
    }


HEALTH = {"simulator": "sim", "ingress": "ingress", "worker": "worker", "api": "api", "signed": "signed", "console": "console"}


def assert_all_up(system):
    for name, process in system["processes"].items():
        assert process.poll() is None, f"{name} exited with {process.returncode}: {tail(system, name)}"
    for name, port in HEALTH.items():
        status = request(system["ports"][port], "GET", "/healthz", timeout=10)[0]
        assert status == 200, f"{name} /healthz answered {status}: {tail(system, name)}"


def tail(system, name):
    """The log's last crash (its fatal error and crashed thread) if the process trapped, else its end."""
    log = system["work"] / {"signed": "ingress-signed.log"}.get(name, f"{name}.log")
    text = log.read_text(errors="replace") if log.exists() else ""
    threads = list(re.finditer(r"^Thread \d+ .* crashed:$", text, re.M))
    if not threads:
        return text[-1500:]
    fatal = [line for line in text[:threads[-1].start()].splitlines() if "Fatal error" in line][-1:]
    return "\n".join(fatal) + "\n" + text[threads[-1].start():][:1200]


def settled(system, timeout):
    """Waits until the queue is drained or a process has exited; then every process must be up and
    the queue drained."""
    wait_until(lambda: drained(system) or any(p.poll() is not None for p in system["processes"].values()), timeout)
    assert_all_up(system)
    assert drained(system), "the worker did not drain the queue"


def json_error(status, headers, body, what):
    """A 4xx in the one JSON error form."""
    assert 400 <= status < 500, f"{what}: {status} {body[:300]!r}"
    json_form(headers, body, what)


def json_form(headers, body, what):
    """The one JSON error form `{"error", "code"}`."""
    assert headers.get("content-type", "").startswith("application/json"), f"{what}: {headers.get('content-type')} {body[:200]!r}"
    answer = json.loads(body)
    assert isinstance(answer.get("error"), str) and isinstance(answer.get("code"), str), f"{what}: {answer}"


class Batch:
    """Requests whose answers must each be a 4xx JSON error, and after which every process is up
    and nothing was queued."""

    def __init__(self, system):
        self.system = system

    def __enter__(self):
        assert wait_until(lambda: drained(self.system), 60), "the queue did not drain before the batch"
        self.before = queued(self.system)
        self.failures = []
        return self

    def expect_error(self, port, method, path, headers=None, body=None, source="127.0.0.1"):
        status, answer_headers, answer = request(port, method, path, headers, body, source)
        try:
            json_error(status, answer_headers, answer, f"{method} {path[:120]} {list((headers or {}).items())[:3]!r}"[:300]
                       + f" body {(body or b'')[:80]!r}")
        except (AssertionError, ValueError) as failure:
            self.failures.append(str(failure))
        return status

    def __exit__(self, kind, value, traceback):
        if kind is None:
            assert not self.failures, f"{len(self.failures)} answers were not a 4xx JSON error:\n" + "\n".join(self.failures[:40])
            assert_all_up(self.system)
            assert queued(self.system) == self.before, f"something was queued: {self.before} → {queued(self.system)}"
        return False


# --- the read API --------------------------------------------------------------------------------

def api_routes(code, known):
    window = "serviceId=100&from=2030-01-01T00:00:00Z&to=2030-01-02T00:00:00Z"
    return [("GET", f"/api/tracking/{code}", None), ("GET", f"/api/tracking/{code}/calendar.ics", None),
            ("POST", f"/api/tracking/{code}/cancel", b""), ("POST", f"/api/tracking/{code}/cancel", b'{"reason":"other"}'),
            ("POST", f"/api/tracking/{code}/modify", b'{"slot":"x"}'), ("GET", f"/api/tracking/{code}/services", None),
            ("GET", f"/api/tracking/{code}/availability?{window}", None),
            ("GET", f"/api/tracking/{code}/jobs/{uuid.uuid4()}", None), ("GET", f"/api/tracking/{known}/jobs/{code}", None)]


@pytest.mark.parametrize("name", list(HOSTILE_CODES))
def test_hostile_codes_on_every_api_route(system, name):
    code = HOSTILE_CODES[name]
    with Batch(system) as batch:
        for method, path, body in api_routes(code, system["code"]):
            headers = {"content-type": "application/json"} if body is not None else {}
            batch.expect_error(system["ports"]["api"], method, path, headers, body)


@pytest.mark.parametrize("name", list(HOSTILE_CODES))
def test_hostile_codes_on_the_page_route_reflect_nothing(system, name):
    """`/track/:code` answers HTML: a 4xx, or the very page every code gets (the page's script then
    asks the API, which answers 404), never anything built from the code."""
    code = HOSTILE_CODES[name]
    assert wait_until(lambda: drained(system), 60)
    before = queued(system)
    status, headers, body = request(system["ports"]["api"], "GET", f"/track/{code}")
    if status == 200:
        assert body == request(system["ports"]["api"], "GET", f"/track/{system['code']}")[2], f"/track/{code[:60]} differs"
    else:
        assert 400 <= status < 500, f"/track/{code[:60]}: {status}"
        if headers.get("content-type", "").startswith("application/json"):
            json_error(status, headers, body, f"/track/{code[:60]}")
    assert_all_up(system)
    assert queued(system) == before


def test_the_page_route_refuses_codes_that_cannot_be_tracking_codes(system):
    with Batch(system) as batch:
        for code in HOSTILE_CODES.values():
            batch.expect_error(system["ports"]["api"], "GET", f"/track/{code}")


def test_hostile_numbers_and_values_in_the_api_query_parameters(system):
    api, code = system["ports"]["api"], system["code"]
    good_from, good_to = "2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z"
    with Batch(system) as batch:
        for value in HOSTILE_NUMBERS + ["1e400", "00000000000000000000000000100"]:
            number = quote(value)
            batch.expect_error(api, "GET", f"/api/tracking/{code}/availability?serviceId={number}&from={good_from}&to={good_to}")
            batch.expect_error(api, "GET", f"/api/tracking/{code}/availability?serviceId=100&from={number}&to={good_to}")
            batch.expect_error(api, "GET", f"/api/tracking/{code}/availability?serviceId=100&from={good_from}&to={number}")
        for value in HOSTILE_QUERY_VALUES:
            batch.expect_error(api, "GET", f"/api/tracking/{code}/availability?serviceId={value}&from={good_from}&to={good_to}")
            batch.expect_error(api, "GET", f"/api/tracking/{code}/availability?serviceId=100&from={value}&to={value}")
        # Dates at and past the ends of what a calendar holds, and windows the wrong way round.
        for start, end in (("-9999-01-01T00:00:00Z", "-9999-01-02T00:00:00Z"), ("99999-01-01T00:00:00Z", "99999-01-02T00:00:00Z"),
                           ("2030-01-02T00:00:00Z", "2030-01-01T00:00:00Z"), ("2030-01-01T00:00:00Z", "2031-01-01T00:00:00Z"),
                           ("0000-01-01T00:00:00Z", "0000-01-02T00:00:00Z"), ("2030-13-45T99:99:99Z", "2030-13-46T99:99:99Z")):
            batch.expect_error(api, "GET", f"/api/tracking/{code}/availability?serviceId=100&from={quote(start)}&to={quote(end)}")
        # Repeated and oversized parameters.
        batch.expect_error(api, "GET", f"/api/tracking/{code}/availability?" + "serviceId=x&" * 500 + "from=a&to=b")


def test_hostile_numbers_in_the_api_json_bodies(system):
    api, code = system["ports"]["api"], system["code"]
    json_headers = {"content-type": "application/json"}
    with Batch(system) as batch:
        for value in ["1e308", "-1e308", "1e400", "99999999999999999999999", "-9223372036854775809", "\"NaN\"", "NaN",
                      "Infinity", "-0", "\"١٢٣\"", "[1e308]", "{\"$gt\":0}", "true"]:
            batch.expect_error(api, "POST", f"/api/tracking/{code}/cancel", json_headers, f'{{"reason":{value}}}'.encode())
            if not value.startswith('"'):  # a string note with a known reason would be a real cancel
                batch.expect_error(api, "POST", f"/api/tracking/{code}/cancel", json_headers, f'{{"reason":"other","note":{value}}}'.encode())
            batch.expect_error(api, "POST", f"/api/tracking/{code}/modify", json_headers, f'{{"slot":{value}}}'.encode())
        batch.expect_error(api, "POST", f"/api/tracking/{code}/cancel", json_headers, b'{"reason":"no-such-reason"}')
        batch.expect_error(api, "POST", f"/api/tracking/{code}/modify", json_headers, b'{"slot":null}')
        # (A cancel's body is optional and its fields too: only bodies no cancel could mean go there.)
        for body in (b"\x00", b"\xff\xfe", b'{"reason":"\xc3\x28"}', b"[" * 10000, b'{"reason":"other","note":"' + b"n" * 20000 + b'"}'):
            batch.expect_error(api, "POST", f"/api/tracking/{code}/modify", json_headers, body)
            batch.expect_error(api, "POST", f"/api/tracking/{code}/cancel", json_headers, body)
        batch.expect_error(api, "POST", f"/api/tracking/{code}/modify", json_headers, b'{"slot":"\xc3\x28"}')
        for body in (b'{"slot":"' + b"A" * 2048 + b'"}', b'{"slot":"x\\u0000y"}', b'{"slot":"..%2F..%2Fetc%2Fpasswd"}'):
            batch.expect_error(api, "POST", f"/api/tracking/{code}/modify", json_headers, body)


def test_a_cancel_whose_body_is_not_utf8_is_refused(system):
    """JSON is UTF-8 (RFC 8259): a cancel whose body holds invalid UTF-8 is refused, not run with
    the bytes ignored. Its own booking, since a cancel that gets through is final."""
    code = book(system["ports"], hour=11)
    assert wait_until(lambda: request(system["ports"]["api"], "GET", f"/api/tracking/{code}")[0] == 200, 60)
    with Batch(system) as batch:
        for body in (b'{"note":"\xc3\x28"}', b'{"ignored":"\xff"}', b'{"reason":"other","x":"\xc0\xae"}'):
            batch.expect_error(system["ports"]["api"], "POST", f"/api/tracking/{code}/cancel", {"content-type": "application/json"}, body)


# --- the ingresses -------------------------------------------------------------------------------

FIXTURE = (Path(__file__).resolve().parents[1] / "Fixtures/webhook-confirmed.json").read_bytes()


def signed_headers(body, timestamp=None, webhook_id=None, signature=None):
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    key = base64.b64decode(SIGNING_SECRET[len("whsec_"):])
    mac = base64.b64encode(hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()).decode()
    return {"content-type": "application/json", "webhook-id": webhook_id, "webhook-timestamp": timestamp,
            "webhook-signature": signature if signature is not None else f"v1,{mac}"}, mac


def test_the_signed_ingress_accepts_a_correctly_signed_webhook(system):
    """The hostile cases below are refused for what they change, not because signing is wrong here."""
    headers, mac = signed_headers(FIXTURE)
    status, _, body = request(system["ports"]["signed"], "POST", "/webhooks/booxi", headers, FIXTURE)
    assert status == 200, body
    # A rotation: a wrong candidate before the right one.
    bogus = base64.b64encode(os.urandom(32)).decode()
    headers, mac = signed_headers(FIXTURE)
    headers["webhook-signature"] = f"v1,{bogus} v1,{mac}"
    assert request(system["ports"]["signed"], "POST", "/webhooks/booxi", headers, FIXTURE)[0] == 200
    assert request(system["ports"]["ingress"], "POST", "/webhooks/booxi",
                   {"content-type": "application/json", "x-webhook-token": WEBHOOK_TOKEN}, FIXTURE)[0] == 200
    assert_all_up(system)


@pytest.mark.parametrize("timestamp", HOSTILE_NUMBERS + ["1" * 21, "0" * 25 + "1", "12345678901234567890"])
def test_hostile_webhook_timestamps_are_refused_and_the_ingress_stays_up(system, timestamp):
    """Signed correctly over `id.timestamp.body` with the hostile timestamp, so only the timestamp
    is wrong (−9223372036854775808 used to trap in `abs(now − seconds)`)."""
    with Batch(system) as batch:
        headers, _ = signed_headers(FIXTURE, timestamp=timestamp)
        batch.expect_error(system["ports"]["signed"], "POST", "/webhooks/booxi", headers, FIXTURE)


def test_signature_candidate_floods_are_refused_quickly(system):
    signed = system["ports"]["signed"]
    big = json.dumps({"event": "booking.confirmed", "padding": "x" * 200_000}).encode()
    with Batch(system) as batch:
        # Empty candidates filling the 16 KiB head, and the same past it (431).
        for count in (1000, 3900, 4000):
            headers, _ = signed_headers(FIXTURE, signature=" ".join(["v1,"] * count))
            batch.expect_error(signed, "POST", "/webhooks/booxi", headers, FIXTURE)
        headers, _ = signed_headers(FIXTURE, signature="v1," * 4000)
        batch.expect_error(signed, "POST", "/webhooks/booxi", headers, FIXTURE)
        # Well-formed wrong candidates over a 200 KiB body: the cost must not grow with their number.
        one, _ = signed_headers(big, signature="v1," + base64.b64encode(os.urandom(32)).decode())
        started = time.time()
        batch.expect_error(signed, "POST", "/webhooks/booxi", one, big)
        single = time.time() - started
        flood = " ".join("v1," + base64.b64encode(os.urandom(32)).decode() for _ in range(300))  # within the 16 KiB head
        many, _ = signed_headers(big, signature=flood)
        started = time.time()
        for _ in range(3):
            batch.expect_error(signed, "POST", "/webhooks/booxi", many, big)
        flooded = (time.time() - started) / 3
        assert flooded < max(10 * single, 0.5), f"300 candidates took {flooded * 1000:.0f} ms, one {single * 1000:.0f} ms"
        # Candidates past the cap are not read, even the right one; nor are other versions or junk.
        headers, mac = signed_headers(FIXTURE)
        headers["webhook-signature"] = " ".join(["v1," + base64.b64encode(os.urandom(32)).decode()] * 40 + [f"v1,{mac}"])
        batch.expect_error(signed, "POST", "/webhooks/booxi", headers, FIXTURE)
        for junk in ("v1,", "v1, v1,", f"v2,{mac}", mac, f"v1,{mac}%00", f"v1,{'A' * 2048}", "v1,\u0661\u0662",
                     f"v1,{base64.b64encode(os.urandom(31)).decode()}", f"v1,{base64.b64encode(os.urandom(33)).decode()}"):
            headers, _ = signed_headers(FIXTURE, signature=junk)
            batch.expect_error(signed, "POST", "/webhooks/booxi", headers, FIXTURE)


def test_unauthenticated_and_malformed_webhooks_are_refused(system):
    ingress, signed = system["ports"]["ingress"], system["ports"]["signed"]
    json_only = {"content-type": "application/json"}
    token = {"content-type": "application/json", "x-webhook-token": WEBHOOK_TOKEN}
    with Batch(system) as batch:
        # No token, a wrong one, hostile ones.
        for headers in (json_only, {**json_only, "x-webhook-token": ""}, {**json_only, "x-webhook-token": "x" * 2048},
                        {**json_only, "x-webhook-token": WEBHOOK_TOKEN[:-1]}, {**json_only, "x-webhook-token": WEBHOOK_TOKEN + "x"},
                        {**json_only, "x-webhook-token": WEBHOOK_TOKEN.upper()}, {**json_only, "x-webhook-token": "\u0661\u0662"},
                        {**json_only, "authorization": f"Bearer {WEBHOOK_TOKEN}"}):
            batch.expect_error(ingress, "POST", "/webhooks/booxi", headers, FIXTURE)
        # The signed ingress without its headers, or with a token instead.
        batch.expect_error(signed, "POST", "/webhooks/booxi", token, FIXTURE)
        headers, _ = signed_headers(FIXTURE)
        batch.expect_error(signed, "POST", "/webhooks/booxi", headers, FIXTURE + b" ")  # the body changed after signing
        # Authenticated, but no JSON object with an event.
        for body in (b"", b"\x00", b"\xff\xfe{}", b'{"event":"booking.confirmed"' + b"\xc3\x28" + b"}", b"[" * 10000,
                     b'{"event":1e308}', b'{"event":-9223372036854775809}', b'{"event":null}', b'{"event":""}', b"1e308",
                     b'"booking.confirmed"', b'{"event":"booking.confirmed",}', b"{\"event\":\"x\"}" + b"\x00"):
            batch.expect_error(ingress, "POST", "/webhooks/booxi", token, body)
        batch.expect_error(ingress, "POST", "/webhooks/booxi", {"x-webhook-token": WEBHOOK_TOKEN}, FIXTURE)  # no content type
        batch.expect_error(ingress, "POST", "/webhooks/booxi", {**token, "content-type": "text/plain"}, FIXTURE)
        # Hostile paths on the ingress.
        for code in HOSTILE_CODES.values():
            batch.expect_error(ingress, "POST", f"/webhooks/booxi/{code}", token, FIXTURE)
            batch.expect_error(ingress, "POST", f"/webhooks/{code}", token, FIXTURE)


@pytest.mark.parametrize("length", ["-1", "99999999999999999999999", "\u0661\u0662\u0663".encode().decode("latin-1"), "+1", " 1",
                                    "1e3", "0x10", "", "1, 2", "18446744073709551617"])
def test_hostile_content_lengths_leave_the_ingress_up(system, length):
    """The HTTP server's to refuse (400, or a closed connection); nothing reaches the queue."""
    before = queued(system)
    head = (f"POST /webhooks/booxi HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Webhook-Token: {WEBHOOK_TOKEN}\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n\r\n").encode("latin-1")
    status = raw(system["ports"]["ingress"], head + FIXTURE)
    assert status == 0 or 400 <= status < 500, status
    assert_all_up(system)
    assert queued(system) == before


# --- the worker: authenticated, well-formed bodies with hostile numbers ----------------------------

def booking(number, code, **fields):
    value = {"confirmationNumber": number, "status": "Approved", "startsOn": "2030-01-15T15:00:00Z",
             "items": [{"serviceId": 100, "serviceName": "Haircut", "duration": 30}],
             "client": {"firstName": "H", "lastName": "X", "trackingPage": {"viewURL": f"https://book.booxi.com/tracking/{code}"}}}
    value.update(fields)
    return value


def drained(system):
    held = redis_cli(system, "EVAL", "local n=0 for _,k in ipairs(redis.call('KEYS',ARGV[1])) do n=n+redis.call('LLEN',k) end return n",
                     0, "bxt:{q}:processing:*")
    return (redis_cli(system, "LLEN", "bxt:{q}:webhooks") == "0" and redis_cli(system, "ZCARD", "bxt:{q}:delayed") == "0"
            and held == "0")


def post_webhook(system, body):
    return request(system["ports"]["ingress"], "POST", "/webhooks/booxi",
                   {"content-type": "application/json", "x-webhook-token": WEBHOOK_TOKEN}, body)[0]


def test_hostile_numbers_in_webhook_fields_leave_the_worker_up(system):
    numbers = ["1e308", "-1e308", "1e400", "99999999999999999999999", "-9223372036854775808", "9223372036854775807",
               "-9223372036854775809", "\"NaN\"", "\"Infinity\"", "\"١٢٣\"", "\"+1\"", "\" 1\"", "\"1e3\"", "\"0x10\"", "\"\"", "-0"]
    bodies, codes = [], []
    for index, number in enumerate(numbers):
        for field in ("modifiedOn", "startsOn", "duration", "serviceId", "staffId", "merchantId", "totalClientTimespan"):
            code = f"hn{index:02d}{field[:5]}x"
            codes.append(code)
            if field in ("duration", "serviceId"):
                fields = {"items": [{"serviceId": 100, "serviceName": "Haircut", "duration": 30, field: "PLACEHOLDER"}]}
            else:
                fields = {field: "PLACEHOLDER"}
            text = json.dumps({"event": "booking.confirmed", "booking": booking(f"HN{index}{field[:3]}", code, **fields)})
            bodies.append(text.replace('"PLACEHOLDER"', number))
        for top in ("eventTime", "timestamp", "occurredAt", "id"):
            code = f"ht{index:02d}{top[:5]}x"
            codes.append(code)
            text = json.dumps({"event": "booking.modified", top: "PLACEHOLDER", "booking": booking(f"HT{index}{top[:3]}", code)})
            bodies.append(text.replace('"PLACEHOLDER"', number))
    dead_before = int(redis_cli(system, "LLEN", "bxt:{q}:dead") or 0)
    statuses = {}
    for body in bodies:
        status = post_webhook(system, body.encode())
        statuses[status] = statuses.get(status, 0) + 1
    assert set(statuses) <= {200, 400}, statuses  # queued as Booxi sent it, or refused as not JSON (1e400)
    settled(system, 120)
    dead = [json.loads(line) for line in redis_cli(system, "LRANGE", "bxt:{q}:dead", 0, -1).splitlines() if line.startswith("{")]
    assert all(letter.get("reason") for letter in dead), [letter for letter in dead if not letter.get("reason")][:3]
    assert len(dead) >= dead_before
    for code in codes:
        status, headers, body = request(system["ports"]["api"], "GET", f"/api/tracking/{code}")
        # 502-504: Booxi (the simulator) does not know these bookings when a body's details were unusable.
        assert status in (200, 202, 404, 409, 502, 503, 504), (code, status, body[:200])
        if status != 200:
            json_form(headers, body, f"lookup {code}")
    assert_all_up(system)


def test_a_far_future_event_time_does_not_outrank_later_events(system):
    """`modifiedOn` in year 9999 on the first delivery; a later change must win. Its own time is a
    day ahead, so it wins whether event times are clamped to when they were received or to a few
    minutes past it, and loses only when the year 9999 is believed."""
    first, second = "futureAAAA1", "futureBBBB2"
    confirmed = {"event": "booking.confirmed", "booking": booking("HFUTURE1", first, modifiedOn="9999-12-31T23:59:59Z")}
    assert post_webhook(system, json.dumps(confirmed).encode()) == 200
    assert wait_until(lambda: request(system["ports"]["api"], "GET", f"/api/tracking/{first}")[0] == 200, 30)
    time.sleep(1.1)
    tomorrow = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    modified = {"event": "booking.modified", "booking": booking("HFUTURE1", second, modifiedOn=tomorrow, startsOn="2030-01-16T15:00:00Z")}
    assert post_webhook(system, json.dumps(modified).encode()) == 200
    assert wait_until(lambda: request(system["ports"]["api"], "GET", f"/api/tracking/{second}")[0] == 200, 30), \
        "the later change lost to the far-future event time"
    assert request(system["ports"]["api"], "GET", f"/api/tracking/{first}")[0] == 404
    assert_all_up(system)


@pytest.mark.parametrize("attempt", ["9223372036854775807", "-9223372036854775808", "1e308", "-1e308", "99999999999999999999999",
                                     "\"NaN\"", "-1", "1.5", "null"])
def test_hostile_attempt_counts_in_queued_envelopes_leave_the_worker_up(system, attempt):
    """Envelopes as they could sit in Redis: the worker applies or dead-letters them, never traps."""
    valid = json.dumps({"event": "booking.confirmed", "booking": booking(f"HA{abs(hash(attempt)) % 10**6}", f"attempt{abs(hash(attempt)) % 10**6}x")})
    unknown = json.dumps({"event": "booking.teleported", "booking": booking("HAUNKNOWN", "attemptunknownx")})
    for payload in (valid, unknown):
        envelope = ('{"attempt":%s,"id":"%s","kind":"webhook","payload":%s,"receivedAt":%d}'
                    % (attempt, uuid.uuid4(), json.dumps(payload), int(time.time() * 1000)))
        redis_cli(system, "LPUSH", "bxt:{q}:webhooks", envelope)
    settled(system, 120)


# --- the console ---------------------------------------------------------------------------------

def log_in(system, source="127.0.0.1"):
    status, headers, body = request(system["ports"]["console"], "POST", "/console/api/session", {"content-type": "application/json"},
                                    json.dumps({"username": "ops", "password": PASSWORD}).encode(), source)
    assert status == 200, body
    cookie = headers["set-cookie"].split(";")[0]
    return {"cookie": cookie, "x-csrf-token": json.loads(body)["csrfToken"], "content-type": "application/json"}


def test_hostile_input_on_the_console_api(system):
    console = system["ports"]["console"]
    session = log_in(system, "127.0.0.70")
    with Batch(system) as batch:
        for code in HOSTILE_CODES.values():
            batch.expect_error(console, "POST", f"/console/api/dead-letters/{code}/reveal", session, b"", "127.0.0.70")
            batch.expect_error(console, "POST", f"/console/api/retries/{code}/now", session, b"", "127.0.0.70")
            batch.expect_error(console, "GET", f"/console/api/timeline?q={code}", session, None, "127.0.0.70")
            batch.expect_error(console, "POST", "/console/api/erase", session,
                               json.dumps({"code": code}).encode(), "127.0.0.70")
        for value in HOSTILE_NUMBERS:
            batch.expect_error(console, "POST", "/console/api/erase", session, f'{{"booking":{json.dumps(value)},"code":1e308}}'.encode()
                               if value else b'{"booking":1e308}', "127.0.0.70")
        # Login bodies: wrong types, hostile numbers (from their own address: failures count per address).
        for body in (b'{"username":1e308,"password":"x"}', b'{"username":"ops","password":-9223372036854775809}', b"\x00",
                     b"\xff", b"[" * 10000, b'{"username":"ops"}', b"{}"):
            batch.expect_error(console, "POST", "/console/api/session", {"content-type": "application/json"}, body, "127.0.0.71")
    # Numbers in the listing filters: ignored or refused, never a 5xx or a non-JSON answer.
    for value in HOSTILE_NUMBERS + ["%00", "%FF", "A" * 2048]:
        for path in (f"/console/api/dead-letters?since={quote(value)}&until={quote(value)}", f"/console/api/stats?range={quote(value)}",
                     f"/console/api/dead-letters?reason={quote(value)}&kind={quote(value)}"):
            status, headers, body = request(console, "GET", path, session, None, "127.0.0.70")
            assert status == 200 or 400 <= status < 500, (path, status)
            assert headers.get("content-type", "").startswith("application/json"), (path, headers.get("content-type"))
            json.loads(body)
    assert_all_up(system)


def test_concurrent_wrong_passwords_are_checked_at_most_the_limit(system):
    """30 wrong passwords for one user at once: at most the limit are checked (401), the rest 429."""
    console = system["ports"]["console"]
    body = json.dumps({"username": "victim", "password": "wrong"}).encode()
    with Batch(system) as batch, futures.ThreadPoolExecutor(30) as pool:
        statuses = list(pool.map(lambda _: batch.expect_error(console, "POST", "/console/api/session", {"content-type": "application/json"},
                                                              body, "127.0.0.72"), range(30)))
    assert statuses.count(401) <= LOGIN_LIMIT and statuses.count(401) + statuses.count(429) == 30, sorted(statuses)


def test_erasing_a_hostile_booking_id_removes_no_other_bookings_jobs(system):
    """Webhooks for BKW1…BKW11 waiting (the worker paused) and dead letters for BKE1…BKE11 (an
    unknown event): erasing booking `1` (or `BKE`, `%`, `.`…) removes none of them."""
    dead_before = int(redis_cli(system, "LLEN", "bxt:{q}:dead") or 0)
    for index in range(1, 12):
        body = json.dumps({"event": "booking.teleported", "booking": booking(f"BKE{index}", f"erasecode{index:02d}")})
        assert post_webhook(system, body.encode()) == 200
    settled(system, 60)
    assert wait_until(lambda: int(redis_cli(system, "LLEN", "bxt:{q}:dead") or 0) >= dead_before + 11, 30)
    session = log_in(system, "127.0.0.73")
    worker = system["processes"]["worker"]
    worker.send_signal(signal.SIGSTOP)  # briefly (heartbeats live 10 s): the webhooks stay in the waiting list
    try:
        for index in range(1, 12):
            body = json.dumps({"event": "booking.confirmed", "booking": booking(f"BKW{index}", f"erasewait{index:02d}")})
            assert post_webhook(system, body.encode()) == 200
        waiting, dead = redis_cli(system, "LLEN", "bxt:{q}:webhooks"), redis_cli(system, "LLEN", "bxt:{q}:dead")
        for booking_id in ("1", "BKE", "BKW", "E1", "%", ".", ".*", "[", "\x00"):
            status, _, answer = request(system["ports"]["console"], "POST", "/console/api/erase", session,
                                        json.dumps({"booking": booking_id}).encode(), "127.0.0.73")
            assert status < 500, (booking_id, status, answer[:200])
            after = redis_cli(system, "LLEN", "bxt:{q}:webhooks"), redis_cli(system, "LLEN", "bxt:{q}:dead")
            assert after == (waiting, dead), f"erasing {booking_id!r} removed other bookings' jobs: {(waiting, dead)} → {after}"
    finally:
        worker.send_signal(signal.SIGCONT)
    settled(system, 60)

"""Every role at `trace`, driven through its flows, then stopped with SIGTERM: no configured secret
appears in any log. The secrets are distinctive (a random suffix each), so a hit is a leak, not a
coincidence: the Partner key, the webhook token (sent as `x-webhook-token`), the signing secret and
the OAuth client secret (a second ingress checks both), the slot-token key, the Redis password (the
server runs with `requirepass`) and a console user's bcrypt hash and password."""
import hashlib
import hmac
import json
import secrets
import subprocess
import tempfile
import time
from pathlib import Path

import requests
from local_processes import BIN, book, free_port, role_environment, start_roles, stop, wait_http, wait_until
from redis_servers import start_redis

SUFFIX = secrets.token_hex(8)
PARTNER_KEY = f"PK-partner-key-{SUFFIX}"
WEBHOOK_TOKEN = f"webhook-token-{SUFFIX}"
SIGNING_SECRET = f"signing-secret-{SUFFIX}"
OAUTH_SECRET = f"oauth-secret-{SUFFIX}"
SLOT_KEY = f"slot-token-key-{SUFFIX}"
REDIS_PASSWORD = f"redis-password-{SUFFIX}"
CONSOLE_PASSWORD = f"console password {SUFFIX}"


def test_no_secret_reaches_any_log():
    work = Path(tempfile.mkdtemp(prefix="bxt-secrets-"))
    redis, redis_port = start_redis(work / "redis")
    processes = [redis]
    try:
        subprocess.run(["redis-cli", "-p", str(redis_port), "config", "set", "requirepass", REDIS_PASSWORD], check=True, capture_output=True)
        console_hash = subprocess.run([BIN, "console", "hash-password"], input=CONSOLE_PASSWORD + "\n", capture_output=True, text=True,
                                      check=True).stdout.strip()
        console_port = free_port()
        env, ports = role_environment(
            f"redis://:{REDIS_PASSWORD}@127.0.0.1:{redis_port}/0", BXT_LOG_LEVEL="trace", BOOXI_PARTNER_API_KEY=PARTNER_KEY,
            BXT_WEBHOOK_TOKENS=WEBHOOK_TOKEN, BXT_WEBHOOK_SIGNING_SECRETS=SIGNING_SECRET, BXT_OAUTH_CLIENT_SECRET=OAUTH_SECRET,
            BXT_SLOT_TOKEN_SECRET=SLOT_KEY, BXT_CONSOLE_USERS=f"ops:{console_hash}", BXT_CONSOLE_PORT=str(console_port))
        processes += start_roles(env, ports, work)
        # A second ingress that checks every form at once: token, OAuth bearer and HMAC signature.
        strict_port, strict_ops = free_port(), free_port()
        processes.append(subprocess.Popen(
            [BIN, "ingress"], env={**env, "BXT_INGRESS_PORT": str(strict_port), "BXT_INGRESS_OPS_PORT": str(strict_ops),
                                   "BXT_INGRESS_SIGNATURE_ENABLED": "true", "BXT_INGRESS_OAUTH_ENABLED": "true"},
            stdout=open(work / "ingress-strict.log", "w"), stderr=subprocess.STDOUT))
        processes.append(subprocess.Popen([BIN, "console"], env=env, stdout=open(work / "console.log", "w"), stderr=subprocess.STDOUT))
        wait_http(f"http://127.0.0.1:{strict_ops}/readyz")
        wait_http(f"http://127.0.0.1:{console_port}/healthz")

        drive_ingress(ports["ingress"], strict_port)
        drive_api_and_worker(ports)
        drive_console(f"http://127.0.0.1:{console_port}")
    finally:
        stop(processes)

    logs = {path.name: path.read_text(errors="replace") for path in work.rglob("*.log")}
    assert {"simulator.log", "ingress.log", "worker.log", "api.log", "console.log", "ingress-strict.log"} <= logs.keys()
    # The logs are at trace, service-lifecycle's descriptions of the services included.
    for name in ("simulator.log", "ingress.log", "worker.log", "api.log", "console.log", "ingress-strict.log"):
        assert " trace " in logs[name] and "[ServiceLifecycle]" in logs[name], f"{name} is not at trace: {logs[name][-2000:]}"
    assert "BookingFetcher" in logs["worker.log"], logs["worker.log"][-2000:]
    configured = {"Partner key": PARTNER_KEY, "webhook token": WEBHOOK_TOKEN, "signing secret": SIGNING_SECRET,
                  "OAuth secret": OAUTH_SECRET, "slot-token key": SLOT_KEY, "Redis password": REDIS_PASSWORD,
                  "console hash": console_hash, "console password": CONSOLE_PASSWORD}
    hits = [f"{what} in {name}: …{text[max(0, text.find(value) - 120):text.find(value)]}"
            for name, text in logs.items() if name != "redis.log" for what, value in configured.items() if value in text]
    assert hits == [], "\n".join(hits)


def drive_ingress(port, strict_port):
    url = f"http://127.0.0.1:{port}/webhooks/booxi"
    body = {"event": "booking.confirmed", "booking": {"client": {"firstName": "Odile"}}}
    assert requests.post(url, json=body, headers={"x-webhook-token": WEBHOOK_TOKEN}).status_code == 200
    assert requests.post(url, json=body, headers={"x-webhook-token": WEBHOOK_TOKEN[:-1] + "x"}).status_code == 401

    strict = f"http://127.0.0.1:{strict_port}"
    refused = requests.post(strict + "/oauth/token", data={"grant_type": "client_credentials"}, auth=("booxi", OAUTH_SECRET + "x"))
    assert refused.status_code == 401, refused.text
    granted = requests.post(strict + "/oauth/token", data={"grant_type": "client_credentials"}, auth=("booxi", OAUTH_SECRET))
    assert granted.status_code == 200, granted.text
    raw = json.dumps(body).encode()
    signature = hmac.new(SIGNING_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"content-type": "application/json", "x-webhook-token": WEBHOOK_TOKEN,
               "authorization": f"Bearer {granted.json()['access_token']}", "x-booxi-signature": signature}
    assert requests.post(strict + "/webhooks/booxi", data=raw, headers=headers).status_code == 200
    assert requests.post(strict + "/webhooks/booxi", data=raw, headers={**headers, "x-booxi-signature": "0" * 64}).status_code == 401


def drive_api_and_worker(ports):
    api = f"http://127.0.0.1:{ports['api']}/api/tracking"
    code = book(ports)
    assert wait_until(lambda: requests.get(f"{api}/{code}").status_code == 200, 30)
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 5 * 86400))
    slots = requests.get(f"{api}/{code}/availability", params={"serviceId": 100, "from": f"{day}T00:00:00Z", "to": f"{day}T23:59:00Z"})
    assert slots.status_code == 200, slots.text
    token = slots.json()["slots"][0]["token"]
    assert requests.post(f"{api}/{code}/modify", json={"slot": token[:-2] + "AA"}).status_code == 400
    cancelled = requests.post(f"{api}/{code}/cancel", json={"reason": "other"}, timeout=15)
    assert cancelled.status_code in (200, 202), cancelled.text
    assert wait_until(lambda: requests.get(f"{api}/{code}").json().get("state") == "cancelled", 30)


def drive_console(base):
    assert requests.post(base + "/console/api/session", json={"username": "ops", "password": CONSOLE_PASSWORD + "x"}).status_code == 401
    http = requests.Session()
    login = http.post(base + "/console/api/session", json={"username": "ops", "password": CONSOLE_PASSWORD})
    assert login.status_code == 200, login.text
    http.headers["X-CSRF-Token"] = login.json()["csrfToken"]
    assert http.get(base + "/console/api/queues").status_code == 200

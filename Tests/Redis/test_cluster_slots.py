"""Every Lua script keeps to one Redis Cluster slot: the keys it is given (KEYS) and every key it
touches, including those it builds from a prefix in ARGV. The whole system runs its flows
(webhooks with and without details, duplicates, lookups, availability, modify, cancel, OAuth
tokens, Booxi's budget, background fetches, dead letters and replay) while MONITOR records every
command; Redis itself says which keys each command touches (COMMAND GETKEYS) and which slot each
key is in (CLUSTER KEYSLOT, CRC16 as Cluster computes it, on a cluster-enabled server)."""
import json
import re
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from local_processes import BIN, WEBHOOK_TOKEN, book, free_port, role_environment, start_roles, wait_http
from redis_servers import start_redis, stop

OAUTH_SECRET = "test-oauth-client-secret-0123456789"  # secrets shorter than 16 bytes are refused at start-up
LINE = re.compile(r'^\d+\.\d+ \[\d+ (?P<who>[^\]]+)\] (?P<args>.*)$')


def ask(port, lines):
    """One redis-cli for many commands (MONITOR's quoting is what redis-cli reads): one CSV reply each."""
    result = subprocess.run(["redis-cli", "-p", str(port), "--csv"], input="\n".join(lines) + "\n", capture_output=True, text=True)
    return result.stdout.splitlines()


def csv_values(line):
    return [value for value in re.findall(r'"((?:[^"\\]|\\.)*)"', line)]


def test_every_script_touches_one_slot():
    work = Path(tempfile.mkdtemp(prefix="bxt-slots-"))
    redis, port = start_redis(work / "redis")
    oracle, oracle_port = start_redis(work / "oracle", "--cluster-enabled", "yes", "--cluster-config-file", str(work / "nodes.conf"),
                                      "--cluster-port", str(free_port()), name="oracle")  # the default, port + 10000, may pass 65535
    monitor = subprocess.Popen(["redis-cli", "-p", str(port), "monitor"], stdout=subprocess.PIPE, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(monitor.stdout), daemon=True)
    reader.start()
    env, ports = role_environment(f"redis://127.0.0.1:{port}/0", BXT_INGRESS_OAUTH_ENABLED="true",
                                  BXT_OAUTH_CLIENT_SECRET=OAUTH_SECRET)
    processes = start_roles(env, ports, work)
    api = f"http://127.0.0.1:{ports['api']}"
    try:
        token_request = urllib.request.Request(f"http://127.0.0.1:{ports['ingress']}/oauth/token", method="POST",
                                               data=f"grant_type=client_credentials&client_id=booxi&client_secret={OAUTH_SECRET}".encode(),
                                               headers={"content-type": "application/x-www-form-urlencoded"})
        token = json.load(urllib.request.urlopen(token_request))["access_token"]
        # Both forms are configured (the token comes with role_environment), so both are sent.
        env_bearer = {"authorization": f"Bearer {token}", "x-webhook-token": WEBHOOK_TOKEN, "content-type": "application/json"}
        # The simulator's webhooks carry no bearer token here: deliver bookings' webhooks ourselves.
        codes = []
        for hour in (10, 11):
            code = book(ports, hour=hour)
            codes.append(code)
        fixture = (Path(__file__).resolve().parents[1] / "Fixtures/webhook-confirmed.json").read_bytes()
        for _ in range(2):  # a duplicate delivery of an event with an id, and a bad body for the dead letters
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{ports['ingress']}/webhooks/booxi", data=fixture,
                                                          headers={**env_bearer, "webhook-id": "evt-1"}, method="POST"))
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{ports['ingress']}/webhooks/booxi",
                                                      data=b'{"event":"booking.teleported"}', headers=env_bearer, method="POST"))
        wait_http(f"{api}/api/tracking/abc123XYZ", timeout=30)
        services = json.load(urllib.request.urlopen(f"{api}/api/tracking/abc123XYZ/services"))["services"]
        start = time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(time.time() + 5 * 86400))
        end = time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(time.time() + 7 * 86400))
        slots = json.load(urllib.request.urlopen(f"{api}/api/tracking/abc123XYZ/availability?serviceId={services[0]['id']}&from={start}&to={end}"))["slots"]
        modify = urllib.request.Request(f"{api}/api/tracking/abc123XYZ/modify", data=json.dumps({"slot": slots[0]["token"]}).encode(),
                                        headers={"content-type": "application/json"}, method="POST")
        try:
            urllib.request.urlopen(modify, timeout=30).read()
        except urllib.error.HTTPError:
            pass  # a slot taken meanwhile: its scripts (lock, enqueue) ran either way
        for code in codes:
            try:
                urllib.request.urlopen(f"{api}/api/tracking/{code}", timeout=10).read()
            except urllib.error.HTTPError:
                pass
        cancel = urllib.request.Request(f"{api}/api/tracking/abc123XYZ/cancel", data=b"", method="POST")
        try:
            urllib.request.urlopen(cancel, timeout=30).read()
        except urllib.error.HTTPError:
            pass  # the modify may have issued a new code; the cancel's scripts ran either way
        admin = {**env, "BXT_REDIS_URL": f"redis://127.0.0.1:{port}/0"}
        subprocess.run([BIN, "admin", "dead", "replay"], env=admin, check=True, capture_output=True)
        subprocess.run([BIN, "admin", "budget"], env=admin, check=True, capture_output=True)
        time.sleep(2)  # heartbeats, promotions, the reaper and the budget's dispatcher run meanwhile
    finally:
        stop(processes)
        monitor.terminate()
        reader.join(5)

    # Group each script's own commands (MONITOR shows them right after the EVALSHA, as "lua").
    runs, current = [], None
    for line in lines:
        match = LINE.match(line.strip())
        if not match:
            continue
        args = match["args"]
        if match["who"] == "lua":
            if current is not None:
                current["inner"].append(args)
            continue
        name = csv_values('"' + args.split('"', 2)[1] + '"')[0].upper() if args.startswith('"') else ""
        if name in ("EVALSHA", "EVAL"):
            values = csv_values(args)
            count = int(values[2])
            current = {"declared": values[3:3 + count], "inner": [], "line": args[:120]}
            runs.append(current)
        else:
            current = None
    assert len(runs) > 50, f"only {len(runs)} script runs recorded"
    inner = sorted({command for run in runs for command in run["inner"]})
    touched = {}
    for command, reply in zip(inner, ask(oracle_port, [f"COMMAND GETKEYS {command}" for command in inner])):
        if "ERR" in reply[:8]:
            # Commands without keys answer GETKEYS with an error; only those may.
            assert csv_values(command)[0].upper() in ("TIME", "PING", "ECHO"), f"{command}: {reply}"
            reply = ""
        touched[command] = reply
    keys = sorted({key for run in runs for key in run["declared"]} | {key for line in touched.values() for key in csv_values(line)})
    slot_of = dict(zip(keys, ask(oracle_port, [f'CLUSTER KEYSLOT "{key}"' for key in keys])))
    scripts_seen = set()
    for run in runs:
        run_keys = set(run["declared"])
        for command in run["inner"]:
            run_keys |= set(csv_values(touched.get(command, "")))
        slots = {slot_of[key] for key in run_keys}
        assert len(slots) <= 1, f"{run['line']} touches keys in slots {slots}: {sorted(run_keys)}"
        scripts_seen.add(run["line"].split('"')[3])
    print(f"{len(runs)} script runs, {len(scripts_seen)} scripts, {len(keys)} keys")
    assert len(scripts_seen) >= 15, f"only {len(scripts_seen)} different scripts ran"
    stop([redis, oracle])

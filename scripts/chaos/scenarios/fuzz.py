"""fuzz: generated hostile bodies to the ingress and generated codes, paths and bodies to the API;
no 5xx, no crash, and every queued body is applied or dead-lettered with a reason."""
import json
import random
import string

import requests

from harness import WEBHOOK_TOKEN, System, check, row, webhook


def fuzz_bodies(count):
    rng = random.Random(42)
    valid = json.loads(webhook("fuzzcode", "F1"))
    def mutate():
        kind = rng.randrange(9)
        if kind == 0: return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        if kind == 1: text = json.dumps(valid); return text[: rng.randrange(len(text))].encode()
        if kind == 2: return ("[" * 5000 + "]" * 5000).encode() if rng.random() < .5 else ('{"a":' * 3000 + "1" + "}" * 3000).encode()
        if kind == 3: return json.dumps({"event": "booking.confirmed", "x": "y" * rng.randrange(1000, 300000)}).encode()
        if kind == 4: return json.dumps({"event": rng.choice([1, None, [], {}, True, "booking.confirmed"]), "booking": rng.choice([1, "x", [], None])}).encode()
        if kind == 5: return json.dumps({"event": "booking." + "".join(rng.choice("\u0000\u202e\ud7ff\u00e9\U0001F600abc") for _ in range(20))}).encode()
        if kind == 6:
            bad = json.loads(json.dumps(valid))
            bad["booking"]["client"]["trackingPage"]["viewURL"] = rng.choice(["javascript:alert(1)", "https://evil.com/tracking/abcd", "https://book.booxi.com/tracking/a/b",
                                                                              "https://book.booxi.com/tracking/" + "x" * 500, "", "https://book.booxi.com/tracking/%00%00"])
            return json.dumps(bad).encode()
        if kind == 7: return b'{"event":"booking.confirmed","booking":{"confirmationNumber":' + str(rng.random()).encode() + b"}}"
        return json.dumps({"event": rng.choice(["booking.cancelled", "booking.modified", "x"]), "booking": {"confirmationNumber": "".join(rng.choice(string.printable) for _ in range(rng.randrange(0, 80)))}}).encode()
    return [mutate() for _ in range(count)]


def run(short):
    count = 2000 if short else 10000
    system = System(env={"BXT_API_LOOKUPS_PER_MINUTE_PER_IP": "1000000", "BXT_API_LOOKUPS_PER_SECOND_GLOBAL": "1000000",
                         "BXT_API_ACTIONS_PER_MINUTE_PER_IP": "1000000", "BXT_API_ACTIONS_PER_SECOND_GLOBAL": "1000000"})
    try:
        system.start_roles("simulator", "ingress", "api")
        system.start_worker("w0")
        ingress = f"http://127.0.0.1:{system.ports['ingress']}/webhooks/booxi"
        statuses, queued = {}, 0
        rng = random.Random(7)
        session = requests.Session()
        for body in fuzz_bodies(count):
            content_type = rng.choice(["application/json"] * 8 + ["text/plain", "application/xml", ""])
            # Hostile bodies, but with the token, so they get past authentication and reach parsing.
            headers = {"x-webhook-token": WEBHOOK_TOKEN, **({"content-type": content_type} if content_type else {})}
            response = session.post(ingress, data=body, headers=headers)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            queued += response.status_code == 200
        api = f"http://127.0.0.1:{system.ports['api']}"
        api_statuses = {}
        for i in range(count):
            code = "".join(rng.choice(string.ascii_letters + string.digits + "-_%/.\\'\"<>é😀") for _ in range(rng.randrange(0, 200)))
            path = rng.choice([f"/api/tracking/{requests.utils.quote(code, safe='')}", f"/api/tracking/{requests.utils.quote(code, safe='')}/cancel",
                               f"/api/tracking/abc123XYZ/modify", f"/track/{requests.utils.quote(code, safe='')}",
                               f"/api/tracking/abc123XYZ/availability?serviceId={rng.randrange(-5, 200)}&from={code[:20]}&to=x"])
            method = "POST" if path.endswith(("/cancel", "/modify")) else "GET"
            body = rng.choice([None, code.encode(), json.dumps({"startsOn": code, "serviceId": rng.choice([100, "x", None])}).encode()])
            response = session.request(method, api + path, data=body, headers={"content-type": "application/json"})
            api_statuses[response.status_code] = api_statuses.get(response.status_code, 0) + 1
        system.wait(system.drained, 60)
        applied = system.lua_count("bxt:{m}:code:*")
        dead = int(system.redis("LLEN", "bxt:{q}:dead"))
        dead_letters = [json.loads(line) for line in system.redis("LRANGE", "bxt:{q}:dead", 0, 20).splitlines() if line.startswith("{")]
        server_errors = sum(n for s, n in statuses.items() if s >= 500) + sum(n for s, n in api_statuses.items() if s >= 500)
        row("fuzz", ingress_bodies=count, ingress_statuses=dict(sorted(statuses.items())), queued=queued, dead_letters=dead,
            applied=applied, api_requests=count, api_statuses=dict(sorted(api_statuses.items())), crashed=[n for n, p in system.procs.items() if p.poll() is not None])
        check("fuzz", server_errors == 0, f"{server_errors} 5xx answers")
        check("fuzz", all(p.poll() is None for p in system.procs.values()), "a process crashed")
        check("fuzz", all(d.get("reason") for d in dead_letters), "a dead letter without a reason")
        # Every queued body was applied (the valid ones; at most the seeded code too) or dead-lettered.
        check("fuzz", queued <= dead + applied + 1 and dead + 1 >= queued - applied, f"queued {queued} vs dead {dead} + applied {applied}")
    finally:
        system.stop()

"""The operations console in headless Chromium against real processes (Redis, simulator, ingress,
worker, api, console): login, the overview's charts, dead letters from a malformed webhook and from
a command Booxi refused, replay from the page, a booking's timeline, the security rules (CSRF,
redirects, throttled logins), and axe-core on every page. Screenshots in test-output/screenshots."""
import json
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest
import requests
from conftest import browser, shot, wait
from local_processes import BIN, WEBHOOK_HEADERS, free_port, role_environment, start_roles, stop, wait_http, wait_until
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

PASSWORD = "a long console password"


@pytest.fixture(scope="module")
def console():
    work = Path(tempfile.mkdtemp(prefix="bxt-console-"))
    redis_port = free_port()
    procs = [subprocess.Popen(["redis-server", "--port", str(redis_port), "--save", "", "--dir", str(work)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    digest = subprocess.run([BIN, "console", "hash-password"], input=PASSWORD + "\n", capture_output=True, text=True, check=True).stdout.strip()
    env, ports = role_environment(f"redis://127.0.0.1:{redis_port}/0", BXT_LOG_LEVEL="warning", BXT_RETRY_MAX_ATTEMPTS="2",
                                  BXT_RETRY_BASE_MS="50", BXT_RETRY_CAP_MS="100", BXT_API_COMMAND_WAIT_MS="300",
                                  BXT_CONSOLE_USERS=f"ops:{digest}", BXT_CONSOLE_PORT=str(free_port()))
    try:
        procs += start_roles(env, ports, work)
        procs.append(subprocess.Popen([BIN, "console"], env=env, stdout=open(work / "console.log", "w"), stderr=subprocess.STDOUT))
        base = f"http://127.0.0.1:{env['BXT_CONSOLE_PORT']}"
        # A second console behind an "authenticating proxy" on loopback.
        proxied_port = free_port()
        procs.append(subprocess.Popen([BIN, "console"], env={**env, "BXT_CONSOLE_PORT": str(proxied_port), "BXT_CONSOLE_USERS": "",
                                                            "BXT_CONSOLE_TRUSTED_USER_HEADER": "X-Forwarded-User",
                                                            "BXT_CONSOLE_TRUSTED_PROXIES": "127.0.0.1"},
                                      stdout=open(work / "console-proxied.log", "w"), stderr=subprocess.STDOUT))
        wait_http(base + "/healthz")
        wait_http(f"http://127.0.0.1:{proxied_port}/healthz")
        yield {"base": base, "proxied": f"http://127.0.0.1:{proxied_port}", "ports": ports, "work": work}
    finally:
        stop(procs)


def session(console):
    """A scripted login, as operators would script the JSON API: the cookie and the CSRF token."""
    http = requests.Session()
    answer = http.post(console["base"] + "/console/api/session", json={"username": "ops", "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    http.headers["X-CSRF-Token"] = answer.json()["csrfToken"]
    return http


def accessible(driver):
    from axe_selenium_python import Axe
    axe = Axe(driver)
    axe.inject()
    serious = [v for v in axe.run()["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], [(v["id"], v["nodes"][0]["target"]) for v in serious]


def book(console, hour, days=3):
    sim = console["ports"]["sim"]
    start = time.strftime("%Y-%m-%dT", time.gmtime(time.time() + days * 86400)) + f"{hour:02d}:00:00Z"
    created = requests.post(f"http://127.0.0.1:{sim}/simulator/bookings", json={"serviceId": 100, "startsOn": start, "firstName": "Odile", "lastName": "Marchetti"}).json()
    api = console["ports"]["api"]
    assert wait_until(lambda: requests.get(f"http://127.0.0.1:{api}/api/tracking/{created['trackingCode']}").status_code == 200, 30)
    return created["trackingCode"], created["booking"]["bookingId"]


def log_in(driver, console, password=PASSWORD):
    driver.get(console["base"] + "/console")
    wait(driver, EC.url_contains("/console/login"))
    driver.find_element(By.ID, "username").send_keys("ops")
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "submit").click()


@pytest.fixture
def driver():
    driver = browser()
    driver.set_window_size(1280, 1000)
    yield driver
    driver.quit()


def test_login_fails_then_succeeds_and_the_overview_charts_our_traffic(console, driver):
    for hour in (9, 10, 11):
        book(console, hour)
    assert wait_until(lambda: session(console).get(console["base"] + "/console/api/stats").json()[-1]["counts"]["accepted"] >= 3
                      or sum(p["counts"]["accepted"] for p in session(console).get(console["base"] + "/console/api/stats").json()) >= 3, 15)
    log_in(driver, console, password="wrong")
    wait(driver, lambda d: d.find_element(By.ID, "error").text != "")
    assert "wrong password" in driver.find_element(By.ID, "error").text
    shot(driver, "20-console-login")
    accessible(driver)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "submit").click()
    wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "[data-chart='Webhooks'] polyline")))
    legend = driver.find_element(By.CSS_SELECTOR, "[data-chart='Webhooks'] .legend").text
    accepted = int(legend.split("accepted (")[1].split(")")[0])
    assert accepted >= 3, legend
    assert int(driver.find_element(By.CSS_SELECTOR, "[data-queue='webhooks'] .value").text) >= 0
    applied = driver.find_element(By.CSS_SELECTOR, "[data-chart='Jobs'] .legend").text
    assert int(applied.split("applied (")[1].split(")")[0]) >= 3, applied
    # Hovering a chart shows the minute's values.
    chart = driver.find_element(By.CSS_SELECTOR, "[data-chart='Webhooks'] svg")
    from selenium.webdriver.common.action_chains import ActionChains
    ActionChains(driver).move_to_element_with_offset(chart, chart.size["width"] // 2 - 2, 0).perform()
    assert "accepted:" in driver.find_element(By.ID, "tooltip").text
    shot(driver, "21-console-overview")
    accessible(driver)
    # On a phone: nothing wider than the screen.
    driver.set_window_size(390, 844)
    driver.refresh()
    wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "[data-chart='Webhooks'] polyline")))
    assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    shot(driver, "21-console-overview-phone")
    driver.set_window_size(1280, 1000)
    for page, name in (("workers", "22-console-workers"), ("retries", "24-console-retries"), ("audit", "26-console-audit")):
        driver.get(console["base"] + "/console/" + page)
        wait(driver, lambda d: d.find_element(By.ID, "view").text != "")
        shot(driver, name)
        accessible(driver)
    driver.get(console["base"] + "/console/workers")
    wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#view table")))
    assert "ago" in driver.find_element(By.CSS_SELECTOR, "#view table").text  # a live lane with its heartbeat age


def test_dead_letters_grouped_revealed_and_replayed_from_the_page(console, driver):
    ingress, sim, api = console["ports"]["ingress"], console["ports"]["sim"], console["ports"]["api"]
    # A malformed webhook: valid JSON with an event, no booking id; the worker dead-letters it.
    assert requests.post(f"http://127.0.0.1:{ingress}/webhooks/booxi", json={"event": "booking.confirmed", "booking": {"client": {"firstName": "Odile"}}},
                         headers=WEBHOOK_HEADERS).status_code == 200
    # A command Booxi keeps refusing with 503: dead-lettered after its last attempt.
    code, booking_id = book(console, 14)
    requests.put(f"http://127.0.0.1:{sim}/simulator/faults", json={"errorRate": 1.0, "errorStatus": 503})
    requests.post(f"http://127.0.0.1:{api}/api/tracking/{code}/cancel", timeout=10)
    http = session(console)
    assert wait_until(lambda: len(http.get(console["base"] + "/console/api/dead-letters").json()["items"]) >= 2, 30)
    page = http.get(console["base"] + "/console/api/dead-letters").json()
    reasons = {group["reason"] for group in page["groups"]}
    assert any("confirmationNumber" in reason for reason in reasons), reasons
    command = next(item for item in page["items"] if item["kind"] == "cancel")
    assert "Odile" not in json.dumps(page)  # masked in every listing

    log_in(driver, console)
    wait(driver, EC.presence_of_element_located((By.ID, "who")))
    driver.get(console["base"] + "/console/dead-letters")
    groups = wait(driver, EC.presence_of_element_located((By.ID, "groups")))
    assert "confirmationNumber" in groups.text
    shot(driver, "23-console-dead-letters")
    accessible(driver)
    # Open the malformed one: masked, then revealed (audited).
    malformed = next(item for item in page["items"] if item["kind"] == "webhook")
    driver.find_element(By.CSS_SELECTOR, f"tr[data-id='{malformed['id']}'] button").click()
    payload = wait(driver, EC.visibility_of_element_located((By.ID, "letter-payload")))
    assert "Odile" not in payload.text and "•••" in payload.text
    driver.find_element(By.ID, "reveal").click()
    driver.find_element(By.ID, "confirm-ok").click()
    wait(driver, lambda d: "Odile" in d.find_element(By.ID, "letter-payload").text)

    # Fix the cause (Booxi is back), replay the command from the page: the booking ends cancelled.
    requests.delete(f"http://127.0.0.1:{sim}/simulator/faults")
    driver.find_element(By.CSS_SELECTOR, f"tr[data-id='{command['id']}'] input[type=checkbox]").click()
    driver.find_element(By.ID, "replay-selected").click()
    wait(driver, EC.visibility_of_element_located((By.ID, "confirm-ok"))).click()
    wait(driver, lambda d: d.find_element(By.ID, "status").text == "Replayed 1 of 1.")
    assert wait_until(lambda: requests.get(f"http://127.0.0.1:{api}/api/tracking/{code}").json().get("state") == "cancelled", 30)
    audit = http.get(console["base"] + "/console/api/audit").json()
    assert [entry["action"] for entry in audit][:2] == ["replay", "reveal"] and audit[0]["user"] == "ops"


def test_a_bookings_timeline_in_order_and_erase(console, driver):
    code, booking_id = book(console, 16, days=5)
    api = f"http://127.0.0.1:{console['ports']['api']}"
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 6 * 86400))
    slots = requests.get(f"{api}/api/tracking/{code}/availability", params={"serviceId": 100, "from": f"{day}T00:00:00Z", "to": f"{day}T23:00:00Z"}).json()["slots"]
    new_code = requests.post(f"{api}/api/tracking/{code}/modify", json={"slot": slots[0]["token"]}).json()["trackingCode"]
    assert requests.post(f"{api}/api/tracking/{new_code}/cancel", json={"reason": "other"}).status_code in (200, 202)
    http = session(console)
    assert wait_until(lambda: any(e["type"] == "result" and e["fields"].get("action") == "cancel"
                                  for e in (http.get(console["base"] + "/console/api/timeline", params={"q": new_code}).json() or {}).get("entries", [])), 20)
    log_in(driver, console)
    wait(driver, EC.presence_of_element_located((By.ID, "who")))
    driver.get(console["base"] + "/console/timeline")
    wait(driver, EC.presence_of_element_located((By.ID, "query"))).send_keys(new_code)
    driver.find_element(By.CSS_SELECTOR, "#view form button[type=submit]").click()
    items = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "ol.timeline li"))
    texts = [item.text for item in items]
    position = lambda predicate: next(i for i, text in enumerate(texts) if predicate(text))
    confirmed = position(lambda t: "webhook" in t and "booking.confirmed" in t)
    changed = position(lambda t: "\ncode\n" in f"\n{t}\n" or t.split("\n")[1:2] == ["code"])
    cancel = position(lambda t: "command" in t and "action: cancel" in t)
    booxi = position(lambda t: "booxi" in t and "PUT /booking (cancel)" in t and "status: 200" in t)
    assert confirmed < changed < cancel < booxi, texts
    shot(driver, "25-console-timeline")
    accessible(driver)
    # Erase from the console: the code answers 404 afterwards.
    driver.find_element(By.ID, "erase").click()
    driver.find_element(By.ID, "confirm-ok").click()
    wait(driver, lambda d: d.find_element(By.ID, "status").text.startswith("Erased booking"))
    assert requests.get(f"{api}/api/tracking/{new_code}").status_code == 404


def test_security_rules(console):
    base = console["base"]
    # No session: pages redirect to the login form, the API answers 401.
    page = requests.get(base + "/console/workers", allow_redirects=False)
    assert page.status_code == 303 and page.headers["Location"] == "/console/login"
    assert requests.get(base + "/console/api/queues").json()["code"] == "login_required"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"] and "unsafe-inline" not in page.headers["Content-Security-Policy"]
    # A state-changing request without the CSRF token: 403.
    http = session(console)
    cookie = http.cookies.get("bxt_console")
    refused = requests.post(base + "/console/api/dead-letters/purge", json={"filter": {}}, cookies={"bxt_console": cookie})
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    login = http.post(base + "/console/api/session", json={"username": "ops", "password": PASSWORD})
    set_cookie = login.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie and "Path=/console" in set_cookie
    # Repeated wrong passwords: 429 with Retry-After, even for the right one afterwards.
    answers = [requests.post(base + "/console/api/session", json={"username": "guesser", "password": f"no{n}"}).status_code for n in range(7)]
    assert answers[:5] == [401] * 5 and answers[5:] == [429, 429], answers
    throttled = requests.post(base + "/console/api/session", json={"username": "guesser", "password": "x"})
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    # Behind a trusted proxy the user header is the login; the page gets a session for its CSRF token.
    proxied = console["proxied"]
    assert requests.get(proxied + "/console/api/queues").status_code == 401
    as_alice = requests.Session()
    as_alice.headers["X-Forwarded-User"] = "alice"
    assert as_alice.get(proxied + "/console/api/queues").status_code == 200
    assert as_alice.post(proxied + "/console/api/dead-letters/purge", json={"ids": []}).status_code == 403
    token = as_alice.get(proxied + "/console/api/session").json()
    assert token["user"] == "alice"
    as_alice.headers["X-CSRF-Token"] = token["csrfToken"]
    assert as_alice.post(proxied + "/console/api/dead-letters/purge", json={"ids": []}).json() == {"purged": 0, "selected": 0}
    assert requests.post(proxied + "/console/api/session", json={"username": "alice", "password": "x"}).status_code == 401
    # The console is on its own port: the visitor-facing API does not serve it.
    assert requests.get(f"http://127.0.0.1:{console['ports']['api']}/console/login").status_code == 404

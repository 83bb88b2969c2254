"""The tracking page's system for the browser suites: Redis, the simulator (as Booxi), the ingress,
a worker and three API processes started as real processes:
- `api`: the default page, with BookNow's key set (so "Book again" opens the widget);
- `widget_api`: modify through Booxi's widget;
- `strict_api`: a 7-day change cutoff, a booking page link, and a business's message override.
A stand-in for Booxi's booknow.js records what the page asks of it."""
import http.server
import json
import os
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from local_processes import BIN, ROOT, free_port, role_environment, start_roles, stop, wait_http, wait_until
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

SHOTS = ROOT / "test-output/screenshots"
WIDGET_KEY = "public-booknow-key"


class StubWidget(http.server.BaseHTTPRequestHandler):
    """A stand-in for Booxi's booknow.js that records the page's calls."""
    def do_GET(self):
        body = (b"window.BookNow = { openModify: function (o) { window.__openModify = o; },"
                b" open: function (o) { window.__open = o; } };")
        self.send_response(200)
        self.send_header("content-type", "text/javascript")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def start_api(env, work, name, **extra):
    port, ops = free_port(), free_port()
    process = subprocess.Popen([BIN, "api"], env={**env, "BXT_API_PORT": str(port), "BXT_API_OPS_PORT": str(ops), **extra},
                               stdout=open(work / f"{name}.log", "w"), stderr=subprocess.STDOUT)
    return process, port, ops


@pytest.fixture(scope="module")
def system():
    work = Path(tempfile.mkdtemp(prefix="bxt-browser-"))
    widget_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StubWidget)
    threading.Thread(target=widget_server.serve_forever, daemon=True).start()
    widget_url = f"http://127.0.0.1:{widget_server.server_address[1]}/booknow.js"
    redis_port = free_port()
    procs = [subprocess.Popen(["redis-server", "--port", str(redis_port), "--save", "", "--dir", str(work)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    env, ports = role_environment(
        f"redis://127.0.0.1:{redis_port}/0", BXT_LOG_LEVEL="warning", BXT_PAGE_BUSINESS_NAME="Salon Lumière",
        BXT_PAGE_TIME_ZONE="UTC", BXT_PAGE_WIDGET_SCRIPT_URL=widget_url, BXT_PAGE_SUPPORT_CONTACT="+1 514-555-0142")
    overrides = work / "messages"
    overrides.mkdir()
    (overrides / "en.json").write_text(json.dumps({"help": "Need a hand? Call us:"}))
    try:
        procs += start_roles({**env, "BXT_PAGE_WIDGET_API_KEY": WIDGET_KEY}, ports, work)
        widget, widget_port, widget_ops = start_api(env, work, "api-widget", BXT_PAGE_MODIFY_MODE="widget")
        strict, strict_port, strict_ops = start_api(
            env, work, "api-strict", BXT_API_ACTION_CUTOFF_MINUTES="10080", BXT_PAGE_BOOKING_URL="https://booking.example.com/salon",
            BXT_PAGE_MESSAGES_DIR=str(overrides))
        procs += [widget, strict]
        for ops in (widget_ops, strict_ops):
            wait_http(f"http://127.0.0.1:{ops}/readyz", timeout=60)
        yield {"sim": ports["sim"], "api": ports["api"], "widget_api": widget_port, "strict_api": strict_port, "work": work,
               "redis": redis_port}
    finally:
        stop(procs)
        widget_server.shutdown()


def sim(system, method, path, body=None):
    request = urllib.request.Request(f"http://127.0.0.1:{system['sim']}/simulator/{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"content-type": "application/json"})
    return json.load(urllib.request.urlopen(request, timeout=10))


def api_json(system, path, api="api", headers=None):
    request = urllib.request.Request(f"http://127.0.0.1:{system[api]}{path}", headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.load(response)


def view(system, code):
    try:
        status, body = api_json(system, f"/api/tracking/{code}")
        return body if status == 200 else None
    except Exception:
        return None


def book(system, hour=10, service=100, days=4, **extra):
    """A booking in the simulator (it sends booking.confirmed); waits until the API shows it. Its code and bookingId."""
    start = time.strftime("%Y-%m-%dT", time.gmtime(time.time() + days * 86400)) + f"{hour:02d}:00:00Z"
    created = sim(system, "POST", "bookings", {"serviceId": service, "startsOn": start, "firstName": "Amélie", "lastName": "Roy", **extra})
    code = created["trackingCode"]
    if not wait_until(lambda: view(system, code) is not None, 30):
        logs = "\n".join(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
                         for log in sorted(system["work"].glob("*.log")))
        raise RuntimeError(f"booking {code} never became visible; the roles' logs:\n{logs}")
    return code, created["booking"]["bookingId"]


def change(system, booking_id, code, expected_state, **fields):
    """What staff do in Booxi (the simulator sends booking.modified); waits until the page's API shows the state."""
    sim(system, "PATCH", f"bookings/{booking_id}", fields)
    assert wait_until(lambda: (view(system, code) or {}).get("state") == expected_state, 30), view(system, code)


def browser(language="en-US", zone=None):
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=420,1000", f"--lang={language}"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    options.binary_location = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
    # Chromium takes its time zone from TZ.
    service = Service(os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver"), env={**os.environ, "TZ": zone or "UTC"})
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture
def driver():
    driver = browser()
    yield driver
    driver.quit()


def shot(driver, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def wait(driver, condition, timeout=15):
    return WebDriverWait(driver, timeout).until(condition)


def accessible(driver):
    """axe-core on the page as it is now: no violation of any impact."""
    from axe_selenium_python import Axe
    axe = Axe(driver)
    axe.inject()
    violations = axe.run()["violations"]
    assert violations == [], "\n".join(f"{v['id']} ({v['impact']}): {v['help']} × {len(v['nodes'])}: {v['nodes'][0]['target']}"
                                       for v in violations)

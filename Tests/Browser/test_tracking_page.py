"""The tracking page in a real (headless) Chromium, against the real API, worker, ingress, Redis
and simulator started as processes. Screenshots of each state go to test-output/screenshots/."""
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
from local_processes import free_port, stop, wait_http
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("BXT_EXECUTABLE", str(ROOT / ".build/debug/booxi-tracking"))
SHOTS = ROOT / "test-output/screenshots"


class StubWidget(http.server.BaseHTTPRequestHandler):
    """Serves a stand-in for Booxi's booknow.js that records the openModify call."""
    def do_GET(self):
        body = b"window.BookNow = { openModify: function (o) { window.__openModify = o; } };"
        self.send_response(200)
        self.send_header("content-type", "text/javascript")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def system():
    work = Path(tempfile.mkdtemp(prefix="bxt-browser-"))
    procs = []
    redis_port, sim, ingress, worker, api, widget_api, ingress_ops, api_ops, widget_ops = (free_port() for _ in range(9))
    widget_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StubWidget)
    threading.Thread(target=widget_server.serve_forever, daemon=True).start()
    widget_url = f"http://127.0.0.1:{widget_server.server_address[1]}/booknow.js"
    procs.append(subprocess.Popen(["redis-server", "--port", str(redis_port), "--save", "", "--dir", str(work)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    env = {**os.environ, "BXT_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "BOOXI_PARTNER_API_KEY": "browser-test-key",
           "BXT_DEFAULTS_FILE": str(ROOT / "config/default.json"), "BXT_LOG_LEVEL": "warning",
           "BXT_SIMULATOR_PORT": str(sim), "BXT_SIMULATOR_WEBHOOK_URL": f"http://127.0.0.1:{ingress}/webhooks/booxi",
           "BXT_BOOXI_BASE_URL": f"http://127.0.0.1:{sim}/booking/v1", "BXT_INGRESS_PORT": str(ingress),
           "BXT_WORKER_PORT": str(worker), "BXT_API_PORT": str(api), "BXT_INGRESS_OPS_PORT": str(ingress_ops), "BXT_API_OPS_PORT": str(api_ops), "BXT_PAGE_BUSINESS_NAME": "Salon Lumière",
           "BXT_PAGE_TIME_ZONE": "America/Montreal", "BXT_BOOXI_REQUESTS_PER_SECOND": "100", "BXT_BOOXI_REQUESTS_PER_MINUTE": "6000",
           "BXT_SIMULATOR_REQUESTS_PER_SECOND": "100", "BXT_SIMULATOR_REQUESTS_PER_MINUTE": "6000"}
    for role in (["simulator"], ["ingress"], ["worker"], ["api"]):
        procs.append(subprocess.Popen([BIN] + role, env=env, stdout=open(work / f"{role[0]}.log", "w"), stderr=subprocess.STDOUT))
    widget_env = {**env, "BXT_API_PORT": str(widget_api), "BXT_API_OPS_PORT": str(widget_ops), "BXT_PAGE_MODIFY_MODE": "widget", "BXT_PAGE_WIDGET_SCRIPT_URL": widget_url}
    procs.append(subprocess.Popen([BIN, "api"], env=widget_env, stdout=open(work / "api-widget.log", "w"), stderr=subprocess.STDOUT))
    try:
        for port in (sim, api, widget_api, ingress, worker):
            wait_http(f"http://127.0.0.1:{port}/healthz")
        yield {"sim": sim, "api": api, "widget_api": widget_api, "work": work, "redis": redis_port}
    finally:
        stop(procs)
        widget_server.shutdown()


def book(system, hour=10, service=100):
    start = time.strftime("%Y-%m-%dT", time.gmtime(time.time() + 4 * 86400)) + f"{hour:02d}:00:00Z"
    request = urllib.request.Request(f"http://127.0.0.1:{system['sim']}/simulator/bookings", method="POST",
                                     data=json.dumps({"serviceId": service, "startsOn": start, "firstName": "Amélie", "lastName": "Roy"}).encode(),
                                     headers={"content-type": "application/json"})
    code = json.load(urllib.request.urlopen(request))["trackingCode"]
    try:
        wait_http(f"http://127.0.0.1:{system['api']}/api/tracking/{code}")
    except RuntimeError as error:
        # Say why: the roles' own words (warnings and up) are in their logs.
        logs = "\n".join(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
                         for log in sorted(system["work"].glob("*.log")))
        raise RuntimeError(f"{error}; the roles' logs:\n{logs}") from None
    return code


def browser(language="en-US"):
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=420,900", f"--lang={language}"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    options.binary_location = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")), options=options)
    driver.set_page_load_timeout(30)
    return driver


def shot(driver, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def wait(driver, condition, timeout=15):
    return WebDriverWait(driver, timeout).until(condition)


@pytest.fixture
def driver():
    driver = browser()
    yield driver
    driver.quit()


def test_card_renders_and_cancel_through_dialog(system, driver):
    code = book(system, hour=10)
    driver.get(f"http://127.0.0.1:{system['api']}/track/{code}")
    wait(driver, EC.visibility_of_element_located((By.ID, "card")))
    assert "Amélie" in driver.find_element(By.ID, "greeting").text
    assert driver.find_element(By.ID, "status").text == "Confirmed"
    assert driver.find_element(By.ID, "service").text == "Haircut"
    assert driver.find_element(By.ID, "duration").text == "30 min"
    assert driver.find_element(By.ID, "business").text == "Salon Lumière"
    shot(driver, "01-booking-card")

    driver.find_element(By.ID, "cancel").click()
    wait(driver, EC.visibility_of_element_located((By.ID, "dialog")))
    assert driver.switch_to.active_element == driver.find_element(By.ID, "dialog-keep")  # focus moved into the dialog
    shot(driver, "02-cancel-dialog")
    driver.find_element(By.ID, "dialog-confirm").click()
    wait(driver, lambda d: d.find_element(By.ID, "status").text == "Cancelled")
    assert not driver.find_element(By.ID, "cancel").is_displayed()
    assert not driver.find_element(By.ID, "modify").is_displayed()
    assert "cancelled" in driver.find_element(By.ID, "message").text
    shot(driver, "03-cancelled")


def test_builtin_modify_books_a_new_slot_and_follows_the_new_code(system, driver):
    code = book(system, hour=11)
    driver.get(f"http://127.0.0.1:{system['api']}/track/{code}")
    wait(driver, EC.element_to_be_clickable((By.ID, "modify"))).click()
    wait(driver, EC.visibility_of_element_located((By.ID, "modifier")))
    Select(driver.find_element(By.ID, "service-select")).select_by_value("101")
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 6 * 86400))
    driver.execute_script("const d = document.getElementById('day'); d.value = arguments[0]; d.dispatchEvent(new Event('change'));", day)
    slot = wait(driver, EC.element_to_be_clickable((By.CSS_SELECTOR, f"#slots button[data-start^='{day}']")))
    shot(driver, "04-modify-slots")
    slot.click()
    assert slot.get_attribute("aria-pressed") == "true"
    driver.find_element(By.ID, "modify-confirm").click()
    wait(driver, lambda d: d.find_element(By.ID, "service").text == "Colour")
    new_code = driver.current_url.rsplit("/", 1)[1]
    assert new_code != code
    assert "changed" in driver.find_element(By.ID, "message").text
    shot(driver, "05-modified")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"http://127.0.0.1:{system['api']}/api/tracking/{code}")


def test_a_booking_being_prepared_shows_a_loading_state_then_the_card(system, driver):
    code = book(system, hour=15)
    # The booking's details out of date (a webhook without them) and Booxi answering the next call
    # 429 with Retry-After 3: every process pauses, the lookup answers 202 "preparing".
    redis = lambda *args: subprocess.run(["redis-cli", "-p", str(system["redis"]), *args], capture_output=True, text=True).stdout.strip()
    redis("HDEL", f"bxt:{{m}}:booking:{redis('GET', f'bxt:{{m}}:code:{code}')}", "fetchedAt")
    faults = urllib.request.Request(f"http://127.0.0.1:{system['sim']}/simulator/faults", method="PUT",
                                    data=json.dumps({"failNext": 1, "errorStatus": 429, "retryAfterSeconds": 3}).encode(),
                                    headers={"content-type": "application/json"})
    urllib.request.urlopen(faults).read()
    driver.get(f"http://127.0.0.1:{system['api']}/track/{code}")
    wait(driver, lambda d: "being prepared" in d.find_element(By.ID, "loading").text)
    assert driver.find_element(By.ID, "loading").is_displayed()
    shot(driver, "08-being-prepared")
    # The page asks again by itself and shows the booking once a worker fetched it.
    wait(driver, EC.visibility_of_element_located((By.ID, "card")), timeout=30)
    assert driver.find_element(By.ID, "service").text == "Haircut"


def test_widget_mode_calls_open_modify_with_the_code(system, driver):
    code = book(system, hour=13)
    driver.get(f"http://127.0.0.1:{system['widget_api']}/track/{code}")
    wait(driver, EC.element_to_be_clickable((By.ID, "modify"))).click()
    args = wait(driver, lambda d: d.execute_script("return window.__openModify || null"))
    assert args == {"trackingNumber": code}


def test_french_rendering(system):
    code = book(system, hour=14)
    driver = browser("fr-FR")
    try:
        driver.get(f"http://127.0.0.1:{system['api']}/track/{code}")
        wait(driver, EC.visibility_of_element_located((By.ID, "card")))
        assert driver.find_element(By.ID, "greeting").text.startswith("Bonjour Amélie")
        assert driver.find_element(By.ID, "status").text == "Confirmé"
        assert driver.find_element(By.ID, "cancel").text == "Annuler le rendez-vous"
        assert driver.execute_script("return document.documentElement.lang") == "fr"
        shot(driver, "06-french")
    finally:
        driver.quit()


def test_not_found_screen(system, driver):
    driver.get(f"http://127.0.0.1:{system['api']}/track/doesNotExist42")
    wait(driver, EC.visibility_of_element_located((By.ID, "problem")))
    assert driver.find_element(By.ID, "problem-title").text == "Appointment not found"
    shot(driver, "07-not-found")


def test_security_headers(system):
    with urllib.request.urlopen(f"http://127.0.0.1:{system['api']}/track/anyCode123") as response:
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "<script" not in response.read().decode().split("<script src=")[0]  # no inline script

"""The tracking page in a real (headless) Chromium, against the real API, worker, ingress, Redis
and simulator started as processes. Screenshots of each state go to test-output/screenshots/; each
state is also checked with axe-core."""
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from conftest import WIDGET_KEY, accessible, api_json, book, browser, change, shot, sim, view, wait
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select


def open_card(driver, system, code, api="api"):
    driver.get(f"http://127.0.0.1:{system[api]}/track/{code}")
    wait(driver, EC.visibility_of_element_located((By.ID, "card")))


def text(driver, element_id):
    return driver.find_element(By.ID, element_id).text


def redis(system, *args):
    return subprocess.run(["redis-cli", "-p", str(system["redis"]), *args], capture_output=True, text=True).stdout.strip()


def test_card_shows_venue_time_zone_rules_and_cancels_with_a_reason(system, driver):
    code, booking_id = book(system, hour=14)
    open_card(driver, system, code)
    assert "Amélie" in text(driver, "greeting")
    assert text(driver, "status") == "Confirmed"
    assert text(driver, "service") == "Haircut"
    assert text(driver, "duration") == "30 min"
    assert text(driver, "business") == "Salon Lumière"
    assert text(driver, "staff") in ("Sam", "Alex")
    # The venue from the simulator's GET /merchant/1002, its zone labelled (14:00 UTC is 9 or 10 AM in Montréal).
    assert text(driver, "venue-name") == "Salon Lumière Plateau"
    assert text(driver, "venue-address") == "4521 rue Saint-Denis, Montréal QC H2J 2L4, Canada"
    assert driver.find_element(By.ID, "venue-phone").get_attribute("href") == "tel:+15145550142"
    directions = driver.find_element(By.ID, "directions").get_attribute("href")
    assert directions.startswith("https://www.google.com/maps/dir/?api=1&destination=45.5255") and "-73.5843" in directions
    when = text(driver, "when")
    assert ("EST" in when or "EDT" in when) and ("9:00" in when or "10:00" in when) and "–" in when  # start – end, zone
    # The browser runs in UTC, the venue in Montréal: the visitor's own time is shown as well.
    assert "Your time:" in text(driver, "when-local") and "UTC" in text(driver, "when-local") and "2:00" in text(driver, "when-local")
    assert text(driver, "rules").startswith("You can change or cancel until ")
    assert driver.find_element(By.ID, "calendar-ics").get_attribute("href").endswith(f"/api/tracking/{code}/calendar.ics")
    google = driver.find_element(By.ID, "calendar-google").get_attribute("href")
    assert google.startswith("https://calendar.google.com/calendar/render?action=TEMPLATE") and "ctz=America%2FToronto" in google
    assert driver.find_element(By.ID, "calendar-outlook").get_attribute("href").startswith("https://outlook.live.com/calendar/0/action/compose?")
    shot(driver, "01-booking-card")
    accessible(driver)

    driver.find_element(By.ID, "cancel").click()
    wait(driver, EC.visibility_of_element_located((By.ID, "dialog")))
    assert driver.switch_to.active_element == driver.find_element(By.ID, "dialog-keep")  # focus moved into the dialog
    Select(driver.find_element(By.ID, "reason")).select_by_value("schedule_conflict")
    driver.find_element(By.ID, "reason-note").send_keys("Car broke down")
    shot(driver, "02-cancel-dialog")
    accessible(driver)
    driver.find_element(By.ID, "dialog-confirm").click()
    wait(driver, lambda d: text(d, "status") == "Cancelled")
    assert not driver.find_element(By.ID, "cancel").is_displayed()
    assert not driver.find_element(By.ID, "modify").is_displayed()
    assert text(driver, "state-note") == "You cancelled this appointment."
    assert "cancelled" in text(driver, "message")
    shot(driver, "03-cancelled")
    accessible(driver)
    # The reason is kept with the command: in its job record.
    keys = redis(system, "--scan", "--pattern", "bxt:*job:*").split()
    records = [redis(system, "GET", key) for key in keys if "job-reply" not in key]
    assert any('"code":"schedule_conflict"' in record and "Car broke down" in record for record in records), records

    # Book again: BookNow opens with the same service and staff preselected.
    wait(driver, EC.element_to_be_clickable((By.ID, "book-again"))).click()
    options = wait(driver, lambda d: d.execute_script("return window.__open || null"))
    assert options["apiKey"] == WIDGET_KEY and options["serviceId"] == 100 and options["staffId"] in (42, 43) and options["language"] == "en"


def test_the_visitors_zone_equal_to_the_venues_shows_one_time(system):
    code, _ = book(system, hour=15)
    driver = browser(zone="America/Toronto")
    try:
        open_card(driver, system, code)
        assert not driver.find_element(By.ID, "when-local").is_displayed()
        assert "EST" in text(driver, "when") or "EDT" in text(driver, "when")
    finally:
        driver.quit()


@pytest.mark.parametrize("state, setup, badge", [
    ("pendingStaffApproval", {"create": {"status": "PendingStaffApproval"}}, "Awaiting confirmation"),
    ("pendingClientApproval", {"create": {"status": "PendingClientApproval"}}, "Awaiting your confirmation"),
    ("arrived", {"change": {"presence": "Arrived"}}, "Checked in"),
    ("completed", {"change": {"presence": "Arrived", "isCompleted": True}}, "Completed"),
    ("noShow", {"change": {"presence": "NoShow"}}, "Missed"),
    ("past", {"change": {"startsOn": "PAST"}}, "Past"),
])
def test_every_state_has_its_wording_and_badge(system, driver, state, setup, badge):
    code, booking_id = book(system, hour=9, days=2 + len(state) % 5, **setup.get("create", {}))
    if "change" in setup:
        fields = dict(setup["change"])
        if fields.get("startsOn") == "PAST":
            fields["startsOn"] = time.strftime("%Y-%m-%dT%H:00:00Z", time.gmtime(time.time() - 2 * 86400))
        change(system, booking_id, code, state, **fields)
    assert wait_until_state(system, code, state)
    open_card(driver, system, code)
    assert text(driver, "status") == badge
    assert driver.find_element(By.ID, "status").get_attribute("data-state") == state
    assert driver.find_element(By.ID, "state-note").is_displayed()
    over = state in ("completed", "noShow", "past")
    assert driver.find_element(By.ID, "book-again").is_displayed() == over
    assert driver.find_element(By.ID, "cancel").is_displayed() == (state in ("pendingStaffApproval", "pendingClientApproval"))
    shot(driver, f"10-state-{state}")
    accessible(driver)


def wait_until_state(system, code, state):
    from local_processes import wait_until
    return wait_until(lambda: (view(system, code) or {}).get("state") == state, 30)


@pytest.mark.parametrize("kind, fields, expected", [
    ("video", {"location": "VideoConference", "locationText": "https://meet.example.com/salon/42"}, "Video call"),
    ("phone", {"location": "Phone", "locationText": "+1 514 555 0199"}, "By phone: we will call you"),
    ("home", {"location": "Home", "locationText": "12 avenue du Parc, Montréal"}, "At your home"),
])
def test_the_card_adapts_to_the_location_kind(system, driver, kind, fields, expected):
    code, _ = book(system, hour=11, days=3, **fields)
    open_card(driver, system, code)
    assert text(driver, "where-kind") == expected
    assert not driver.find_element(By.ID, "venue").is_displayed()
    video = driver.find_element(By.ID, "video")
    assert video.is_displayed() == (kind == "video")
    if kind == "video":
        assert video.get_attribute("href") == fields["locationText"]
    else:
        assert text(driver, "where-text") == fields["locationText"]
    shot(driver, f"11-location-{kind}")
    accessible(driver)


def test_past_the_cutoff_the_buttons_give_way_to_a_sentence_and_the_api_refuses(system, driver):
    code, _ = book(system, hour=12, days=2)
    open_card(driver, system, code, api="strict_api")
    assert not driver.find_element(By.ID, "cancel").is_displayed()
    assert not driver.find_element(By.ID, "modify").is_displayed()
    assert not driver.find_element(By.ID, "rules").is_displayed()
    assert text(driver, "too-late") == "This appointment can no longer be changed online. To change it, contact +1 514-555-0142."
    # A business's override file changed one string, and only that one.
    assert driver.find_element(By.CSS_SELECTOR, "footer span").text == "Need a hand? Call us:"
    assert text(driver, "status") == "Confirmed"
    shot(driver, "12-past-cutoff")
    accessible(driver)
    request = urllib.request.Request(f"http://127.0.0.1:{system['strict_api']}/api/tracking/{code}/cancel", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 409 and b'"code":"too_late"' in refused.value.read()


def test_book_again_without_a_widget_key_links_to_the_booking_page(system, driver):
    code, booking_id = book(system, hour=16, days=2)
    change(system, booking_id, code, "noShow", presence="NoShow")
    open_card(driver, system, code, api="strict_api")
    link = driver.find_element(By.ID, "book-again-link")
    assert link.is_displayed() and link.get_attribute("href") == "https://booking.example.com/salon"


def test_builtin_modify_books_a_new_slot_and_follows_the_new_code(system, driver):
    code, _ = book(system, hour=11)
    open_card(driver, system, code)
    wait(driver, EC.element_to_be_clickable((By.ID, "modify"))).click()
    wait(driver, EC.visibility_of_element_located((By.ID, "modifier")))
    Select(driver.find_element(By.ID, "service-select")).select_by_value("101")
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 6 * 86400))
    driver.execute_script("const d = document.getElementById('day'); d.value = arguments[0]; d.dispatchEvent(new Event('change'));", day)
    slot = wait(driver, EC.element_to_be_clickable((By.CSS_SELECTOR, f"#slots button[data-start^='{day}']")))
    shot(driver, "04-modify-slots")
    accessible(driver)
    slot.click()
    assert slot.get_attribute("aria-pressed") == "true"
    driver.find_element(By.ID, "modify-confirm").click()
    wait(driver, lambda d: text(d, "service") == "Colour")
    new_code = driver.current_url.rsplit("/", 1)[1]
    assert new_code != code
    assert "changed" in text(driver, "message")
    shot(driver, "05-modified")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"http://127.0.0.1:{system['api']}/api/tracking/{code}")


def tab_to(driver, element_id, limit=40):
    for _ in range(limit):
        if driver.switch_to.active_element.get_attribute("id") == element_id:
            return
        ActionChains(driver).send_keys(Keys.TAB).perform()
    raise AssertionError(f"Tab never reached #{element_id}")


def press(driver, key):
    ActionChains(driver).send_keys(key).perform()


def test_keyboard_only_cancel_and_modify(system, driver):
    code, _ = book(system, hour=13, days=5)
    open_card(driver, system, code)
    # Modify: Tab to the button, Enter; Escape goes back; again, then a slot and confirm, by keys only.
    tab_to(driver, "modify")
    press(driver, Keys.ENTER)
    wait(driver, EC.visibility_of_element_located((By.ID, "modifier")))
    assert driver.switch_to.active_element.get_attribute("id") == "service-select"
    press(driver, Keys.ESCAPE)
    wait(driver, EC.visibility_of_element_located((By.ID, "card")))
    assert driver.switch_to.active_element.get_attribute("id") == "modify"
    press(driver, Keys.ENTER)
    wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#slots button")))
    first = driver.find_element(By.CSS_SELECTOR, "#slots button").get_attribute("data-start")
    for _ in range(10):
        press(driver, Keys.TAB)
        if driver.switch_to.active_element.get_attribute("data-start") == first:
            break
    assert driver.switch_to.active_element.get_attribute("data-start") == first
    press(driver, Keys.ENTER)
    tab_to(driver, "modify-confirm")
    press(driver, Keys.ENTER)
    wait(driver, lambda d: "changed" in text(d, "message"), timeout=20)
    # Cancel: Enter opens the dialog, Escape closes it and focus comes back; Tab stays inside; Enter confirms.
    tab_to(driver, "cancel")
    press(driver, Keys.ENTER)
    wait(driver, EC.visibility_of_element_located((By.ID, "dialog")))
    press(driver, Keys.ESCAPE)
    assert not driver.find_element(By.ID, "dialog").is_displayed()
    assert driver.switch_to.active_element.get_attribute("id") == "cancel"
    press(driver, Keys.ENTER)
    wait(driver, EC.visibility_of_element_located((By.ID, "dialog")))
    seen = set()
    for _ in range(6):
        press(driver, Keys.TAB)
        seen.add(driver.switch_to.active_element.get_attribute("id"))
    assert seen == {"reason", "reason-note", "dialog-keep", "dialog-confirm"}  # focus stays in the dialog
    tab_to(driver, "dialog-confirm", limit=5)
    press(driver, Keys.ENTER)
    wait(driver, lambda d: text(d, "status") == "Cancelled", timeout=20)


def test_a_booking_being_prepared_shows_a_loading_state_then_the_card(system, driver):
    code, _ = book(system, hour=15, days=6)
    # The booking's details out of date (a webhook without them) and Booxi answering the next call
    # 429 with Retry-After 3: every process pauses, the lookup answers 202 "preparing".
    redis(system, "HDEL", f"bxt:{{m}}:booking:{redis(system, 'GET', f'bxt:{{m}}:code:{code}')}", "fetchedAt")
    sim(system, "PUT", "faults", {"failNext": 1, "errorStatus": 429, "retryAfterSeconds": 3})
    driver.get(f"http://127.0.0.1:{system['api']}/track/{code}")
    wait(driver, lambda d: "being prepared" in text(d, "loading"))
    assert driver.find_element(By.ID, "loading").is_displayed()
    shot(driver, "08-being-prepared")
    accessible(driver)
    # The page asks again by itself and shows the booking once a worker fetched it.
    wait(driver, EC.visibility_of_element_located((By.ID, "card")), timeout=30)
    assert text(driver, "service") == "Haircut"


def test_widget_mode_calls_open_modify_with_the_code(system, driver):
    code, _ = book(system, hour=13)
    open_card(driver, system, code, api="widget_api")
    wait(driver, EC.element_to_be_clickable((By.ID, "modify"))).click()
    args = wait(driver, lambda d: d.execute_script("return window.__openModify || null"))
    assert args == {"trackingNumber": code}


@pytest.mark.parametrize("language, greeting, status, cancel", [
    ("fr-FR", "Bonjour Amélie", "Confirmé", "Annuler le rendez-vous"),
    ("es-ES", "Hola Amélie", "Confirmada", "Cancelar la cita"),
])
def test_other_languages(system, language, greeting, status, cancel):
    code, _ = book(system, hour=14, days=3)
    driver = browser(language)
    try:
        open_card(driver, system, code)
        assert text(driver, "greeting").startswith(greeting)
        assert text(driver, "status") == status
        assert text(driver, "cancel") == cancel
        assert driver.execute_script("return document.documentElement.lang") == language[:2]
        shot(driver, f"06-{language[:2]}")
        accessible(driver)
    finally:
        driver.quit()


def test_not_found_screen(system, driver):
    driver.get(f"http://127.0.0.1:{system['api']}/track/doesNotExist42")
    wait(driver, EC.visibility_of_element_located((By.ID, "problem")))
    assert text(driver, "problem-title") == "Appointment not found"
    shot(driver, "07-not-found")
    accessible(driver)


def test_first_render_needs_two_requests_after_the_html(system, driver):
    code, _ = book(system, hour=16, days=3)
    open_card(driver, system, code)
    requested = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert len(requested) == 2, requested  # the script and the booking; the config and the styles came with the HTML
    assert any("/assets/tracking." in name for name in requested) and any(f"/api/tracking/{code}" in name for name in requested)


def test_dark_mode_and_print(system, driver):
    code, _ = book(system, hour=10, days=7)
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    open_card(driver, system, code)
    background = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(18, 22, 27)", background
    shot(driver, "13-dark")
    accessible(driver)  # contrast holds in the dark palette too
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print", "features": []})
    assert not driver.find_element(By.CSS_SELECTOR, ".actions").is_displayed()
    assert not driver.find_element(By.ID, "calendar").is_displayed()
    assert driver.find_element(By.ID, "when").is_displayed() and driver.find_element(By.ID, "venue").is_displayed()
    shot(driver, "14-print")

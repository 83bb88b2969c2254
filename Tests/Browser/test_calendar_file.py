"""`GET /api/tracking/:code/calendar.ics`, read by the `icalendar` library as a calendar app would:
one event whose UID stays, whose SEQUENCE rises with each change, and which says CANCELLED."""
import json
import time
import urllib.parse
import urllib.request

from conftest import api_json, book
from icalendar import Calendar
from local_processes import wait_until


def calendar(system, code):
    with urllib.request.urlopen(f"http://127.0.0.1:{system['api']}/api/tracking/{code}/calendar.ics", timeout=10) as response:
        assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
        raw = response.read()
    parsed = Calendar.from_ical(raw)
    events = [component for component in parsed.walk() if component.name == "VEVENT"]
    assert len(events) == 1
    return raw, events[0]


def post(system, path, body=None):
    request = urllib.request.Request(f"http://127.0.0.1:{system['api']}{path}", method="POST",
                                     data=json.dumps(body).encode() if body is not None else b"",
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=15) as response:
        return response.status, json.load(response)


def test_the_calendar_file_follows_the_booking_through_a_modify_and_a_cancel(system):
    code, booking_id = book(system, hour=15, days=8)
    raw, event = calendar(system, code)
    uid, sequence = str(event["UID"]), int(event["SEQUENCE"])
    start = event.decoded("DTSTART")
    assert str(start.tzinfo) == "America/Toronto" and event["DTSTART"].params["TZID"] == "America/Toronto"
    assert start.astimezone(__import__("datetime").timezone.utc).hour == 15
    assert (event.decoded("DTEND") - start).total_seconds() == 30 * 60
    assert str(event["SUMMARY"]) == "Haircut · Salon Lumière"
    assert str(event["LOCATION"]) == "Salon Lumière Plateau, 4521 rue Saint-Denis, Montréal QC H2J 2L4, Canada"
    latitude, longitude = event.decoded("GEO")
    assert (round(latitude, 4), round(longitude, 4)) == (45.5255, -73.5843)
    assert str(event["STATUS"]) == "CONFIRMED"
    assert booking_id.encode() not in raw and b"1002" not in raw  # no bookingId, no merchantId
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # folded as RFC 5545 asks

    # Modify through the API: a new slot (and a new code); the same event, a higher SEQUENCE.
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 9 * 86400))
    query = urllib.parse.urlencode({"serviceId": 101, "from": f"{day}T00:00:00Z", "to": f"{day}T23:59:00Z"})
    _, slots = api_json(system, f"/api/tracking/{code}/availability?{query}")
    status, changed = post(system, f"/api/tracking/{code}/modify", {"slot": slots["slots"][0]["token"]})
    assert status == 200
    new_code = changed["trackingCode"]
    assert new_code != code
    _, modified = calendar(system, new_code)
    assert str(modified["UID"]) == uid and int(modified["SEQUENCE"]) > sequence
    assert str(modified["SUMMARY"]).startswith("Colour")

    # Cancel: the same event, CANCELLED, a higher SEQUENCE still.
    status, _ = post(system, f"/api/tracking/{new_code}/cancel", {"reason": "unwell"})
    assert status == 200
    assert wait_until(lambda: str(calendar(system, new_code)[1]["STATUS"]) == "CANCELLED", 15)
    raw, cancelled = calendar(system, new_code)
    assert str(cancelled["UID"]) == uid and int(cancelled["SEQUENCE"]) > int(modified["SEQUENCE"])
    assert booking_id.encode() not in raw


def test_a_cancel_with_an_unknown_reason_is_refused_and_changes_nothing(system):
    code, _ = book(system, hour=10, days=9)
    request = urllib.request.Request(f"http://127.0.0.1:{system['api']}/api/tracking/{code}/cancel", method="POST",
                                     data=json.dumps({"reason": "bored"}).encode(), headers={"content-type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("expected 400")
    except urllib.error.HTTPError as refused:
        assert refused.code == 400 and json.load(refused)["code"] == "invalid_reason"
    assert api_json(system, f"/api/tracking/{code}")[1]["state"] == "confirmed"

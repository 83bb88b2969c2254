"""enumeration: one client guessing codes as fast as it can; throttled to the configured rate."""
import random
import string
import time

import requests

from harness import System, check, row


def run(short):
    duration = 15 if short else 60
    system = System(env={"BXT_API_LOOKUPS_PER_MINUTE_PER_IP": "60"})
    try:
        system.start_roles("api")
        session, accepted, throttled = requests.Session(), 0, 0
        end = time.time() + duration
        while time.time() < end:
            guess = "".join(random.choice(string.ascii_letters + string.digits) for _ in range(24))
            status = session.get(f"http://127.0.0.1:{system.ports['api']}/api/tracking/{guess}").status_code
            accepted += status == 404
            throttled += status == 429
        # The bucket starts full (a burst of 60), then refills at 60 per minute.
        sustained = round(max(0, accepted - 60) / duration * 60)
        row("enumeration", seconds=duration, guesses_answered=accepted, throttled=throttled, initial_burst=60,
            sustained_per_minute=sustained, configured_per_minute=60)
        check("enumeration", sustained <= 66, f"{sustained} guesses/min accepted after the burst")
    finally:
        system.stop()

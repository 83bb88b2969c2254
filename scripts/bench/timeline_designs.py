#!/usr/bin/env python3
"""Memory per tracked booking for the timeline's candidate designs (docs/scaling.md#the-timeline),
on a real redis-server: N records as the worker writes them (fields and values as a real record
holds them, with the cached copy) and their code keys, then the same records with a three-entry
timeline (received, applied, a Booxi fetch) kept each way:
- none: the record and the code key alone, the floor;
- folded: the entries as fields of the record (`t0`..`t2` and `tn`), what booxi-tracking does;
- list: a small list per booking, expiring with the record;
- stream: a stream per booking, expiring with the record (the design before this one);
- shared: streams shared by all bookings, one per hour, with a list per booking of its entries' ids.
    python3 scripts/bench/timeline_designs.py [--bookings 10000]
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests"))
from redis_servers import start_redis, stop  # noqa: E402


def resp(*parts):
    out = [f"*{len(parts)}\r\n".encode()]
    for part in parts:
        data = str(part).encode()
        out.append(f"${len(data)}\r\n".encode() + data + b"\r\n")
    return b"".join(out)


def record(index):
    """A record as the worker writes it for a booking.confirmed carrying the booking."""
    booking = f"A{index:08d}"
    code = f"wrFQzZecN1zLZLLchJeKOcEO9{index:011d}"
    fields = ["bookingId", booking, "code", code, "status", "Approved", "version", "1796283435220", "event", "booking.confirmed",
              "changes", "1", "firstName", "Jeanne", "lastName", "Tremblay", "cStatus", "Approved", "cDone", "0",
              "cStart", "2030-03-01T15:00:00Z", "cEnd", "2030-03-01T15:45:00Z", "cDuration", "45", "cMerchant", "34", "cStaff", "12",
              "cItems", '[[100,45,"Haircut"]]', "fetchedAt", "1796283435251", "endsAt", "1898610300"]
    return booking, code, fields


ENTRIES = ["mx78s15g|w|confirmed|msg_2KWPBgLlAfxdpx2AI5|3a5e2659", "mx78s16b|a|applied|confirmed|wrFQ…", "mx78s17c|f|Approved"]
STREAM_FIELDS = [["type", "webhook", "event", "booking.confirmed", "eventId", "msg_2KWPBgLlAfxdpx2AI5", "job", "3a5e2659"],
                 ["type", "apply", "outcome", "applied", "event", "booking.confirmed", "code", "wrFQ…"],
                 ["type", "fetched", "status", "Approved"]]


def commands(design, index):
    booking, code, fields = record(index)
    rec = f"bxt:{{m}}:booking:{booking}"
    out = [resp("HSET", rec, *fields), resp("EXPIREAT", rec, 1898610300), resp("SET", f"bxt:{{m}}:code:{code}", booking, "EXAT", 1898610300)]
    if design == "folded":
        out.append(resp("HSET", rec, "t0", ENTRIES[0], "t1", ENTRIES[1], "t2", ENTRIES[2], "tn", 3))
    elif design == "list":
        key = f"bxt:{{m}}:timeline:{booking}"
        out += [resp("RPUSH", key, *ENTRIES), resp("EXPIREAT", key, 1898610300)]
    elif design == "stream":
        key = f"bxt:{{m}}:timeline:{booking}"
        out += [resp("XADD", key, "MAXLEN", "~", 200, "*", *entry) for entry in STREAM_FIELDS]
        out.append(resp("EXPIREAT", key, 1898610300))
    elif design == "shared":
        bucket = f"bxt:{{m}}:timeline:h{index // 2000}"  # about an hour of a busy business' events
        ids = [f"{1796283435000 + index * 10 + n}-0" for n in range(3)]
        out += [resp("XADD", bucket, entry_id, "b", booking, "e", entry) for entry_id, entry in zip(ids, ENTRIES)]
        index_key = f"bxt:{{m}}:timeline-ids:{booking}"
        out += [resp("RPUSH", index_key, *ids), resp("EXPIREAT", index_key, 1898610300)]
    return out


def used_memory(port):
    text = subprocess.run(["redis-cli", "-p", str(port), "INFO", "memory"], capture_output=True, text=True).stdout
    return int(next(line.split(":")[1] for line in text.splitlines() if line.startswith("used_memory:")))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=10_000)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bxt-timeline-"))
    print(f"| design | bytes per booking ({options.bookings:,} bookings, record and code key included) | over the floor |")
    print("|---|---|---|")
    floor = None
    for design in ("none", "folded", "list", "stream", "shared"):
        redis, port = start_redis(work / design)
        try:
            warm = b"".join(c for index in range(1_000_000, 1_001_000) for c in commands(design, index))
            subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=warm, capture_output=True, check=True)
            before = used_memory(port)
            data = b"".join(c for index in range(options.bookings) for c in commands(design, index))
            subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=data, capture_output=True, check=True)
            per = (used_memory(port) - before) / options.bookings
            floor = per if floor is None else floor
            encoding = subprocess.run(["redis-cli", "-p", str(port), "OBJECT", "ENCODING", "bxt:{m}:booking:A00000042"],
                                      capture_output=True, text=True).stdout.strip()
            print(f"| {design} | {per:,.0f} (record: {encoding}) | {per - floor:+,.0f} |")
        finally:
            stop([redis])


if __name__ == "__main__":
    main()

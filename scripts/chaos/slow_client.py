#!/usr/bin/env python3
"""One slow-client attacker process for the slow-clients chaos scenario: opens COUNT connections
from SOURCE to 127.0.0.1:PORT, sends a partial request head, then one header line a second, and
never finishes; a connection the server closes is opened again 5 s later. Prints a JSON line: how many connections opened, how many the server closed and
how fast, how many were still open at the end.
    python3 slow_client.py SOURCE PORT COUNT SECONDS"""
import asyncio
import json
import resource
import sys
import time


async def slot(source, port, seconds, results, started):
    """One attacker's connection, opened again 5 s after the server closes it, until time is up."""
    while time.time() - started < seconds:
        await one(source, port, seconds, results, started)
        await asyncio.sleep(5)


async def one(source, port, seconds, results, started):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    except OSError:
        results["failed_to_connect"] += 1
        return
    results["opened"] += 1
    opened = time.time()
    try:
        writer.write(b"POST /webhooks/booxi HTTP/1.1\r\nHost: slow\r\n")
        await writer.drain()
        while time.time() - started < seconds:
            try:
                data = await asyncio.wait_for(reader.read(1024), timeout=1.0)
                if data == b"":
                    results["closed_after"].append(round(time.time() - opened, 2))
                    return
            except asyncio.TimeoutError:
                pass
            writer.write(b"X-Trickle: 1\r\n")
            await writer.drain()
        results["still_open"] += 1
    except (ConnectionError, OSError):
        results["closed_after"].append(round(time.time() - opened, 2))
    finally:
        writer.close()


async def main(source, port, count, seconds):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    results = {"opened": 0, "failed_to_connect": 0, "still_open": 0, "closed_after": []}
    started = time.time()
    # Opened over the first second or so, as fast as the loop can.
    tasks = [asyncio.create_task(slot(source, port, seconds, results, started)) for _ in range(count)]
    await asyncio.gather(*tasks)
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])))

"""scripts/dev.sh as a newcomer runs it: it comes up, and every command its banner prints works
when pasted into a fresh shell (no variables of ours, another directory). It uses the debug
binary (BXT_DEV_BIN) instead of building a release one, and the fixed development ports."""
import urllib.request
import json
import re
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from local_processes import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("BXT_EXECUTABLE", str(ROOT / ".build/debug/booxi-tracking"))


def banner_block(output):
    """The lines after "paste into a fresh shell", up to the blank line."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if "paste into a fresh shell" in line)
    block = []
    for line in lines[start + 2:]:
        if not line.strip():
            break
        block.append(line.strip())
    return block


def test_dev_script_comes_up_and_every_banner_command_works_when_pasted():
    work = Path(tempfile.mkdtemp(prefix="bxt-dev-"))
    env = {**os.environ, "BXT_DEV_BIN": BIN, "BXT_DEV_DIR": str(work), "BXT_DEV_REDIS_PORT": str(free_port())}
    for name in list(env):
        if name.startswith("BXT_") and name not in ("BXT_DEV_BIN", "BXT_DEV_DIR", "BXT_DEV_REDIS_PORT"):
            del env[name]
    dev = subprocess.Popen(["bash", str(ROOT / "scripts/dev.sh")], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, start_new_session=True)
    output = ""
    try:
        deadline = time.time() + 180
        while "Ctrl-C stops everything" not in output and time.time() < deadline and dev.poll() is None:
            output += dev.stdout.readline()
        assert "Ctrl-C stops everything" in output, output[-3000:]
        block = banner_block(output)
        commands = [line for line in block if not line.startswith("#")]
        assert len(commands) >= 7, block
        assert commands[0].startswith("export BXT_REDIS_URL=")
        home = Path(tempfile.mkdtemp(prefix="bxt-fresh-shell-"))
        # One fresh shell, the lines pasted one after another, each of which must succeed.
        script = "set -e\n" + "\n".join(block) + "\n"
        fresh = subprocess.run(["env", "-i", f"HOME={home}", "PATH=/usr/local/bin:/usr/bin:/bin", "bash", "--norc", "--noprofile"],
                               input=script, capture_output=True, text=True, timeout=120, cwd=home)
        assert fresh.returncode == 0, f"{fresh.stdout}\n{fresh.stderr}"
        assert "webhooks waiting:" in fresh.stdout and "booking " in fresh.stdout and '"status":"queued"' in fresh.stdout
        # The console line: its user and password log in.
        password = re.search(r"Console: +http://127\.0\.0\.1:8084/console +user dev, password (\S+)", output).group(1)
        login = urllib.request.Request("http://127.0.0.1:8084/console/api/session", method="POST",
                                       data=json.dumps({"username": "dev", "password": password}).encode(),
                                       headers={"content-type": "application/json"})
        assert "csrfToken" in json.load(urllib.request.urlopen(login, timeout=10))
    finally:
        os.killpg(dev.pid, signal.SIGINT)
        try:
            dev.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(dev.pid, signal.SIGKILL)

"""The command line as an operator meets it: a runtime failure is one clear line and exit status 1,
never the usage text (which would suggest the command was mistyped); a configuration error names
its key and exits 78 (EX_CONFIG)."""
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("BXT_EXECUTABLE", str(ROOT / ".build/debug/booxi-tracking"))


def run(*args, **env):
    environment = {**os.environ, "BXT_DEFAULTS_FILE": str(ROOT / "config/default.json"), **env}
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=60, env=environment)


def test_redis_unreachable_is_a_runtime_error_without_usage_text():
    for args in (("admin", "queues"), ("admin", "check"), ("admin", "dead", "list")):
        result = run(*args, BXT_REDIS_URL="redis://127.0.0.1:1/0")
        assert result.returncode == 1, (args, result.stderr)
        assert "Error: Redis connection error" in result.stderr and "Connection refused" in result.stderr
        assert "Usage:" not in result.stderr and "Usage:" not in result.stdout, result.stderr


def test_a_mistyped_command_still_gets_the_usage_text():
    result = run("admin", "dead", "resurrect")
    assert result.returncode == 64 and "Usage:" in result.stderr


def test_a_configuration_error_names_the_key_and_exits_78():
    result = run("admin", "check", BXT_LOG_LEVEL="loud")
    assert result.returncode == 78
    assert "'log.level'" in result.stderr and "'loud' is not one of" in result.stderr and "Usage:" not in result.stderr
    # A key a role needs, found only when the role starts: the same form, and no crash.
    result = run("worker", BXT_REDIS_URL="redis://127.0.0.1:1/0", BOOXI_PARTNER_API_KEY="")
    assert result.returncode == 78, result.stderr[-2000:]
    assert "BOOXI_PARTNER_API_KEY" in result.stderr and "Fatal error" not in result.stderr

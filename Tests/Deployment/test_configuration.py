"""docs/configuration.md cannot drift: it is what `booxi-tracking admin config-reference` prints
from config/default.json and the code's reference of meanings, every key the code reads has a
default, and every secret the code reads is documented as one."""
import json
import os
import re
import subprocess
from pathlib import Path

from configuration_keys import env_name, leaves

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("BXT_EXECUTABLE", str(ROOT / ".build/debug/booxi-tracking"))
DEFAULTS = json.loads((ROOT / "config/default.json").read_text())
READ = re.compile(r'\b(?:s|settings)\.(string|int|bool|milliseconds|choice|stringList|secret|secretList)\("([a-zA-Z.]+)"')


def reference():
    result = subprocess.run([BIN, "admin", "config-reference"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "BXT_DEFAULTS_FILE": str(ROOT / "config/default.json")})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_committed_reference_is_the_generated_one():
    committed = (ROOT / "docs/configuration.md").read_text()
    assert committed == reference(), "docs/configuration.md is out of date: run scripts/gen-docs.sh"


def test_every_default_is_in_the_reference_with_its_variable():
    text = reference()
    for key in leaves(DEFAULTS):
        env = env_name(key)
        assert f"| `{key}` | `{env}` |" in text, key


def test_every_key_the_code_reads_has_a_default_or_is_a_documented_secret():
    defaults = set(leaves(DEFAULTS))
    secret_keys = set(re.findall(r'\("[A-Z_]+", "([a-zA-Z.]+)"\)', (ROOT / "Sources/TrackingConfig/Secrets.swift").read_text()))
    assert "secrets.booxiPartnerApiKey" in secret_keys and "redis.sentinelPassword" in secret_keys
    text = reference()
    read = set()
    for source in (ROOT / "Sources").rglob("*.swift"):
        for method, key in READ.findall(source.read_text()):
            read.add(key)
            if key.startswith("secrets.") or method in ("secret", "secretList"):
                assert method in ("secret", "secretList"), f"{key} must be read as a secret ({source.name})"
                assert key in secret_keys or key in defaults, f"{key} is read as a secret but is neither a default nor in Secrets.sources"
                continue
            assert key in defaults, f"{source.name} reads '{key}', which config/default.json lacks"
    assert len(read) > 80
    secrets_section = text.split("| secret | environment |")[1].split("\n\n")[0]
    for variable in ("BOOXI_PARTNER_API_KEY", "BXT_WEBHOOK_TOKENS", "BXT_WEBHOOK_SIGNING_SECRETS", "BXT_OAUTH_CLIENT_SECRET",
                     "BXT_SLOT_TOKEN_SECRET", "BXT_REDIS_SENTINEL_PASSWORD"):
        assert variable in secrets_section, variable


def test_a_key_without_a_meaning_fails_the_generator(tmp_path):
    broken = json.loads(json.dumps(DEFAULTS))
    broken["redis"]["shinyNewKey"] = 1
    path = tmp_path / "default.json"
    path.write_text(json.dumps(broken))
    result = subprocess.run([BIN, "admin", "config-reference"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "BXT_DEFAULTS_FILE": str(path)})
    assert result.returncode == 1 and "redis.shinyNewKey" in result.stderr

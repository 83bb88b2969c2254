"""config/default.json's keys and their environment variables, for the pytest suites."""
import json
import re
from pathlib import Path

DEFAULTS = json.loads((Path(__file__).resolve().parents[1] / "config/default.json").read_text())


def leaves(obj=DEFAULTS, prefix=""):
    """Every dotted key of a nested configuration object."""
    for key, value in obj.items():
        if isinstance(value, dict):
            yield from leaves(value, prefix + key + ".")
        else:
            yield prefix + key


def env_name(key):
    """The variable that overrides a key, by the code's rule (EnvironmentName): `redis.poolSize` → BXT_REDIS_POOL_SIZE."""
    return "BXT_" + "_".join(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", part).upper() for part in key.split("."))

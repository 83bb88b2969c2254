"""Docker cannot run here, so the compose file and Dockerfile are checked structurally against the
CLI and the configuration they must match."""
import json
import os
import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("BXT_EXECUTABLE", str(ROOT / ".build/debug/booxi-tracking"))
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DEFAULTS = json.loads((ROOT / "config/default.json").read_text())
SERVICES = COMPOSE["services"]


def cli_subcommands():
    help_text = subprocess.run([BIN, "--help"], capture_output=True, text=True, check=True).stdout
    section = help_text.split("SUBCOMMANDS:")[1]
    return {line.split()[0] for line in section.splitlines() if line.startswith("  ") and line.split()}


CLUSTER_NODES = {f"redis-node-{index}" for index in range(1, 7)}


def test_services_and_commands_match_the_cli():
    assert set(SERVICES) == {"redis", "ingress", "worker", "api", "console", "simulator", "redis-cluster-init"} | CLUSTER_NODES
    subcommands = cli_subcommands()
    for name in ("ingress", "worker", "api", "console", "simulator"):
        command = SERVICES[name]["command"]
        assert command[0] in subcommands, f"{name}: {command} is not a booxi-tracking subcommand"
        assert command[0] == name


def test_ports_and_health_checks_match_the_configuration():
    # Public port (published) and the port the health check reads /readyz on (the operations
    # listener, never published).
    ports = {"ingress": (DEFAULTS["ingress"]["port"], DEFAULTS["ingress"]["opsPort"]),
             "api": (DEFAULTS["api"]["port"], DEFAULTS["api"]["opsPort"]),
             "worker": (None, DEFAULTS["worker"]["port"]),
             "simulator": (DEFAULTS["simulator"]["port"], DEFAULTS["simulator"]["port"])}
    for name, (public, ops) in ports.items():
        check = " ".join(SERVICES[name]["healthcheck"]["test"])
        path = "/healthz" if name == "simulator" else "/readyz"
        assert f"127.0.0.1:{ops}{path}" in check, f"{name} health check: {check}"
        published = SERVICES[name].get("ports", [])
        assert all(mapping.endswith(f":{public}") for mapping in published)
        if name != "simulator":
            assert not any(mapping.endswith(f":{ops}") for mapping in published), f"{name}: operations port published"
    assert "ports" not in SERVICES["worker"], "workers must scale with --scale worker=N, so no fixed host port"
    # The console: its own port, published on the host's loopback only, health on /healthz.
    assert SERVICES["console"]["ports"] == [f"127.0.0.1:{DEFAULTS['console']['port']}:{DEFAULTS['console']['port']}"]
    assert f"127.0.0.1:{DEFAULTS['console']['port']}/healthz" in " ".join(SERVICES["console"]["healthcheck"]["test"])
    assert DEFAULTS["console"]["host"] == "127.0.0.1" and DEFAULTS["console"]["port"] != DEFAULTS["api"]["port"]
    # Inside the compose network the operations listeners must listen beyond loopback.
    environment = COMPOSE["x-role"]["environment"]
    assert environment["BXT_INGRESS_OPS_HOST"] == environment["BXT_API_OPS_HOST"] == environment["BXT_WORKER_HOST"] == "0.0.0.0"


def test_redis_persistence_and_secrets():
    command = " ".join(SERVICES["redis"]["command"])
    assert "--appendonly yes" in command and "--appendfsync everysec" in command and "--maxmemory-policy noeviction" in command
    assert SERVICES["redis"]["volumes"]
    assert SERVICES["simulator"]["profiles"] == ["dev"]
    text = (ROOT / "docker-compose.yml").read_text()
    assert not re.search(r"(API_KEY|TOKENS|SECRET)[^\n]*[:=]\s*\S", text.replace("env_file", "")), "secrets belong in .env"
    for name in ("ingress", "worker", "api"):
        assert SERVICES[name]["env_file"] == [".env"]
        assert SERVICES[name]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_dockerfile_is_multi_stage_with_hiredis():
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM ", dockerfile, re.M)
    assert len(stages) == 2
    assert "libhiredis-dev" in dockerfile and "libhiredis0.14" in dockerfile
    assert "booxi-tracking_ReadAPI.resources" in dockerfile, "the page's resources must ship next to the binary"
    assert "booxi-tracking_Console.resources" in dockerfile, "the console's pages must ship next to the binary"
    assert "COPY config" in dockerfile


def test_the_cluster_profile_forms_a_cluster_the_roles_can_seed_from():
    for name in CLUSTER_NODES | {"redis-cluster-init"}:
        assert SERVICES[name]["profiles"] == ["cluster"], f"{name} must start only with --profile cluster"
    for name in CLUSTER_NODES:
        command = " ".join(SERVICES[name]["command"])
        assert "--cluster-enabled yes" in command and "--appendonly yes" in command and "--maxmemory-policy noeviction" in command
    init = SERVICES["redis-cluster-init"]
    script = " ".join(init["command"])
    assert "--cluster create" in script and "--cluster-replicas 1" in script and "--cluster-yes" in script
    assert set(init["depends_on"]) == CLUSTER_NODES
    # The seeds the header tells operators to put in .env are nodes of the profile, in the
    # configuration's host:port form.
    header = (ROOT / "docker-compose.yml").read_text().split("x-role:")[0]
    seeds = re.search(r"BXT_REDIS_CLUSTER_SEEDS=(\S+)", header).group(1).split(",")
    assert seeds and all(seed.split(":")[0] in CLUSTER_NODES and seed.split(":")[1] == "6379" for seed in seeds)
    # docs/configuration.md is generated from the configuration keys.
    assert "`BXT_REDIS_CLUSTER_SEEDS`" in (ROOT / "docs/configuration.md").read_text()

"""deploy/kubernetes rendered (scripts/k8s-render.py, as kustomize would) and checked: every object
against the Kubernetes version the README names (kubernetes-validate, strict), the custom
resources (KEDA, Prometheus Operator) against their schemas (Tests/Fixtures/crd-schemas), and
everything against the code: ports and probe paths, environment variables, queue names, the grace
period."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from configuration_keys import env_name, leaves
from local_processes import BIN

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = json.loads((ROOT / "config/default.json").read_text())
KUSTOMIZATIONS = ["deploy/kubernetes/base", "deploy/kubernetes/overlays/managed-tls", "deploy/kubernetes/overlays/sentinel",
                  "deploy/kubernetes/overlays/cluster"]
CRD_SCHEMAS = {path.stem: json.loads(path.read_text()) for path in (ROOT / "Tests/Fixtures/crd-schemas").glob("*.json")}


def kubernetes_version():
    match = re.search(r"Kubernetes (\d+\.\d+)", (ROOT / "README.md").read_text())
    assert match, "the README names no Kubernetes version"
    return match.group(1) + ".0"


def render(path):
    output = subprocess.run([sys.executable, str(ROOT / "scripts/k8s-render.py"), str(ROOT / path)], capture_output=True, text=True,
                            check=True).stdout
    return [doc for doc in yaml.safe_load_all(output) if doc]


def by_kind(objects, kind):
    return [obj for obj in objects if obj["kind"] == kind]


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_every_object_is_valid(path):
    version = kubernetes_version()
    objects = render(path)
    assert len(objects) >= 15
    for obj in objects:
        if obj["kind"] in CRD_SCHEMAS:
            jsonschema.validate(obj, CRD_SCHEMAS[obj["kind"]])
        else:
            kubernetes_validate.validate(obj, version, strict=True)


def test_a_misspelled_field_fails_validation():
    deployment = by_kind(render(KUSTOMIZATIONS[0]), "Deployment")[0]
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, kubernetes_version(), strict=True)
    scaled = by_kind(render(KUSTOMIZATIONS[0]), "ScaledObject")[0]
    scaled["spec"]["cooldownPeriodSeconds"] = 300
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(scaled, CRD_SCHEMAS["ScaledObject"])


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_ports_probes_and_hosts_match_the_roles_configuration(path):
    objects = render(path)
    ports = {"ingress": (DEFAULTS["ingress"]["port"], DEFAULTS["ingress"]["opsPort"]),
             "api": (DEFAULTS["api"]["port"], DEFAULTS["api"]["opsPort"]), "worker": (None, DEFAULTS["worker"]["port"])}
    ops_host_variable = {"ingress": "BXT_INGRESS_OPS_HOST", "api": "BXT_API_OPS_HOST", "worker": "BXT_WORKER_HOST"}
    for deployment in by_kind(objects, "Deployment"):
        role = deployment["metadata"]["name"].removeprefix("booxi-tracking-")
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == [role]
        declared = {port["name"]: port["containerPort"] for port in container["ports"]}
        public, ops = ports[role]
        assert declared.get("ops") == ops and declared.get("http") == public, (role, declared)
        # The operations listener must listen on the pod's address for the probes and Prometheus.
        env = {item["name"]: item.get("value") for item in container["env"]}
        assert env[ops_host_variable[role]] == "0.0.0.0"
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "ops"}
        assert container["startupProbe"]["httpGet"] == {"path": "/readyz", "port": "ops"}
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "ops"}
        assert container["securityContext"]["readOnlyRootFilesystem"] and deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"]
        assert container["resources"]["requests"] and container["resources"]["limits"]
    for service in by_kind(objects, "Service"):
        role = service["spec"]["selector"]["app.kubernetes.io/component"]
        ops = {port["name"]: port["port"] for port in service["spec"]["ports"]}["ops"]
        assert ops == ports[role][1]


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_every_environment_variable_is_a_configuration_key_or_a_documented_secret(path):
    variables = {env_name(key) for key in leaves(DEFAULTS)} | {"BXT_DEFAULTS_FILE"}
    secrets = re.findall(r'\("([A-Z_]+)", "[a-zA-Z.]+"\)', (ROOT / "Sources/TrackingConfig/Secrets.swift").read_text())
    reference = (ROOT / "docs/configuration.md").read_text()
    for deployment in by_kind(render(path), "Deployment"):
        for item in deployment["spec"]["template"]["spec"]["containers"][0]["env"]:
            name = item["name"]
            if name.endswith("_FILE") and name.removesuffix("_FILE") in secrets:
                assert any(f"`{name.removesuffix('_FILE')}`" in line and "_FILE" in line for line in reference.splitlines()), \
                    f"{name}: secret not documented"
                assert item["value"].startswith("/run/secrets/booxi-tracking/")
                continue
            assert name in variables, f"{deployment['metadata']['name']}: {name} is not a configuration key's variable"


def queue_lists(shards):
    """The waiting lists of `shards` queue shards, as the code names them (`admin queue-keys`)."""
    printed = subprocess.run([BIN, "admin", "queue-keys"], cwd=ROOT, capture_output=True, text=True, check=True,
                             env={**os.environ, "BXT_QUEUE_SHARDS": str(shards), "BXT_LOG_LEVEL": "error"}).stdout
    lines = printed.splitlines()
    assert len(lines) == shards, printed
    return {name for line in lines for name in line.split(": ", 1)[1].split()}


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_keda_lists_are_the_queues_the_code_uses(path):
    objects = render(path)
    shards = set()
    for deployment in by_kind(objects, "Deployment"):
        env = {item["name"]: item.get("value") for item in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        shards.add(int(env.get("BXT_QUEUE_SHARDS", DEFAULTS["queue"]["shards"])))
    assert len(shards) == 1, f"every role must use the same queue.shards: {shards}"
    scaled = by_kind(objects, "ScaledObject")[0]
    assert {trigger["metadata"]["listName"] for trigger in scaled["spec"]["triggers"]} == queue_lists(shards.pop())
    assert scaled["spec"]["scaleTargetRef"]["name"] == "booxi-tracking-worker"
    assert 1 <= scaled["spec"]["minReplicaCount"] < scaled["spec"]["maxReplicaCount"] and scaled["spec"]["cooldownPeriod"] > 0


def test_variants_tls_and_sentinel():
    tls = by_kind(render(KUSTOMIZATIONS[1]), "ScaledObject")[0]
    assert all(trigger["type"] == "redis" and trigger["metadata"]["enableTLS"] == "true" for trigger in tls["spec"]["triggers"])
    sentinel = by_kind(render(KUSTOMIZATIONS[2]), "ScaledObject")[0]
    assert all(trigger["type"] == "redis-sentinel" and trigger["metadata"]["sentinelMaster"] for trigger in sentinel["spec"]["triggers"])
    deployments = by_kind(render(KUSTOMIZATIONS[2]), "Deployment")
    for deployment in deployments:
        env = {item["name"]: item.get("value") for item in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["BXT_REDIS_SENTINEL_MASTER"] == sentinel["spec"]["triggers"][0]["metadata"]["sentinelMaster"]
        assert env["BXT_REDIS_SENTINELS"] == sentinel["spec"]["triggers"][0]["metadata"]["addresses"]


def test_variant_cluster():
    objects = render(KUSTOMIZATIONS[3])
    scaled = by_kind(objects, "ScaledObject")[0]
    triggers = scaled["spec"]["triggers"]
    assert all(trigger["type"] == "redis-cluster" and trigger["authenticationRef"]["name"] == "booxi-tracking-redis" for trigger in triggers)
    for deployment in by_kind(objects, "Deployment"):
        env = {item["name"]: item.get("value") for item in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["BXT_REDIS_CLUSTER_SEEDS"] == triggers[0]["metadata"]["addresses"]
        assert "BXT_REDIS_SENTINELS" not in env, "a Cluster fails over by itself: seeds and sentinels exclude each other"
        if deployment["metadata"]["name"] == "booxi-tracking-ingress":
            assert env["BXT_INGRESS_REPLICA_ACKS"] == "1"
    secret = next(item for item in by_kind(objects, "Secret") if item["metadata"]["name"] == "booxi-tracking-secrets")
    assert secret["stringData"]["redis-url"].endswith("/0"), "a Cluster has database 0 only"


def test_the_grace_period_exceeds_the_workers():
    worker_grace_seconds = DEFAULTS["worker"]["shutdownGraceMs"] / 1000
    for deployment in by_kind(render(KUSTOMIZATIONS[0]), "Deployment"):
        assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > worker_grace_seconds


def test_the_config_map_is_config_default_json():
    config_map = by_kind(render(KUSTOMIZATIONS[0]), "ConfigMap")[0]
    assert json.loads(config_map["data"]["default.json"]) == DEFAULTS

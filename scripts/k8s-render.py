#!/usr/bin/env python3
"""Renders a kustomization of deploy/kubernetes (the base or an overlay) as kustomize would for
what these manifests use: resources (files and directories), a ConfigMap generated from files,
labels, a namespace, image tags, and strategic-merge patches (maps merged, lists of named items
merged by name, other lists replaced). No kustomize binary is needed (Debian has none).
    scripts/k8s-render.py deploy/kubernetes/overlays/managed-tls > rendered.yaml
"""
import copy
import sys
from pathlib import Path

import yaml

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}


# Lists kustomize merges by `name` (core kinds' strategic-merge keys); every other list, and every
# list of a custom resource (ScaledObject triggers, secretTargetRef), is replaced by the patch's.
MERGED_BY_NAME = {"containers", "initContainers", "env", "volumes", "volumeMounts", "ports"}


def merge(base, patch, key=None):
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for name, value in patch.items():
            merged[name] = merge(base[name], value, name) if name in base else copy.deepcopy(value)
        return merged
    if key in MERGED_BY_NAME and isinstance(base, list) and isinstance(patch, list):
        merged = [copy.deepcopy(item) for item in base]
        for item in patch:
            index = next((i for i, existing in enumerate(merged) if existing["name"] == item["name"]), None)
            if index is None:
                merged.append(copy.deepcopy(item))
            else:
                merged[index] = merge(merged[index], item)
        return merged
    return copy.deepcopy(patch)


def load_documents(path: Path):
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def render(directory: Path):
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    objects = []
    for resource in kustomization.get("resources", []):
        target = (directory / resource).resolve()
        objects += render(target) if target.is_dir() else load_documents(target)
    for generator in kustomization.get("configMapGenerator", []):
        data = {}
        for entry in generator["files"]:
            key, _, path = entry.partition("=")
            data[key] = (directory / path).read_text()
        objects.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}, "data": data})
    for patch_entry in kustomization.get("patches", []):
        for patch in load_documents(directory / patch_entry["path"]):
            matches = [i for i, obj in enumerate(objects)
                       if obj["kind"] == patch["kind"] and obj["metadata"]["name"] == patch["metadata"]["name"]]
            if not matches:
                raise SystemExit(f"{directory}: patch for {patch['kind']}/{patch['metadata']['name']} matches nothing")
            for index in matches:
                objects[index] = merge(objects[index], patch)
    for label in kustomization.get("labels", []):
        for obj in objects:
            obj["metadata"].setdefault("labels", {}).update(label["pairs"])
    for image in kustomization.get("images", []):
        for obj in objects:
            for container in obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
                if container["image"].rsplit(":", 1)[0] == image["name"]:
                    container["image"] = f"{image['name']}:{image['newTag']}"
    if "namespace" in kustomization:
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = kustomization["namespace"]
    return objects


if __name__ == "__main__":
    print(yaml.safe_dump_all(render(Path(sys.argv[1]).resolve()), sort_keys=False), end="")

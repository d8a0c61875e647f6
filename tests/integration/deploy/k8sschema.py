#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Standalone Kubernetes JSON schemas for kubeconform, from kubernetes-validate's.

Usage: k8sschema.py SRC_DIR OUT_DIR MANIFEST.yaml...
SRC_DIR is one of kubernetes-validate's kubernetes-json-schema/v<version>-local-strict
directories (PyPI: kubernetes-validate): each kind's file refers to the shared
/api/_definitions.json, which kubeconform cannot follow. For every built-in kind the
manifests use, this writes OUT_DIR/<kind>-<group>-<version>.json (kubeconform's
{{.ResourceKind}}{{.KindSuffix}} layout) with the definitions it needs inlined under
$defs. Kinds with no such file (custom resources) are left to the CRD schemas."""
import json
import os
import sys

import yaml

PREFIX = "/api/_definitions.json#"


def file_name(api_version, kind):
    group, _, version = api_version.rpartition("/")
    suffix = "-%s-%s" % (group.split(".")[0], version) if group else "-" + version
    return "%s%s.json" % (kind.lower(), suffix)


def refs(node, found):
    if isinstance(node, dict):
        r = node.get("$ref")
        if isinstance(r, str):
            found.add(r.split("/")[-1])
        for v in node.values():
            refs(v, found)
    elif isinstance(node, list):
        for v in node:
            refs(v, found)


def rewrite(node):
    if isinstance(node, dict):
        return {k: (v.replace(PREFIX, "#") if k == "$ref" and isinstance(v, str) else rewrite(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [rewrite(v) for v in node]
    return node


def standalone(src, name, defs):
    with open(os.path.join(src, name)) as f:
        schema = rewrite(json.load(f))
    need, todo = {}, set()
    refs(schema, todo)
    while todo:
        d = todo.pop()
        if d in need:
            continue
        need[d] = defs[d]
        more = set()
        refs(need[d], more)
        todo |= more - set(need)
    schema["$defs"] = need
    return schema


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    src, out = argv[1], argv[2]
    with open(os.path.join(src, "_definitions.json")) as f:
        defs = json.load(f)["$defs"]
    names = set()
    for m in argv[3:]:
        with open(m) as f:
            for doc in yaml.safe_load_all(f):
                if doc and "apiVersion" in doc and "kind" in doc:
                    names.add(file_name(doc["apiVersion"], doc["kind"]))
    os.makedirs(out, exist_ok=True)
    n = 0
    for name in sorted(names):
        if os.path.exists(os.path.join(src, name)):
            with open(os.path.join(out, name), "w") as f:
                json.dump(standalone(src, name, defs), f)
            n += 1
    print("k8sschema: %d built-in kinds from %s" % (n, src))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

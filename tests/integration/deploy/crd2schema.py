#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""CustomResourceDefinition YAML -> one JSON schema per served version, for kubeconform.

Usage: crd2schema.py OUT_DIR CRD.yaml...
Writes OUT_DIR/<group>/<kind>_<version>.json (kind lower case), the layout of
kubeconform's -schema-location '<dir>/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'.
Like kubeconform's openapi2jsonschema.py in strict mode: every object schema that lists
its properties and does not keep unknown fields (x-kubernetes-preserve-unknown-fields)
refuses other properties, so a misspelt field fails; x-kubernetes-int-or-string becomes
integer-or-string. Nothing else is changed."""
import json
import os
import sys

import yaml


def strict(node):
    if isinstance(node, list):
        return [strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: strict(v) for k, v in node.items()}
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    keep = out.get("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in out and "additionalProperties" not in out and not keep:
        out["additionalProperties"] = False
    return out


def convert(out_dir, crd):
    spec = crd["spec"]
    group, kind = spec["group"], spec["names"]["kind"].lower()
    written = []
    for version in spec["versions"]:
        if not version.get("served", True):
            continue
        schema = strict(version["schema"]["openAPIV3Schema"])
        schema["$schema"] = "http://json-schema.org/draft-07/schema#"
        path = os.path.join(out_dir, group, "%s_%s.json" % (kind, version["name"]))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(schema, f, indent=1, sort_keys=True)
        written.append(path)
    return written


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    n = 0
    for name in argv[2:]:
        with open(name) as f:
            for doc in yaml.safe_load_all(f):
                if doc and doc.get("kind") == "CustomResourceDefinition":
                    n += len(convert(argv[1], doc))
    if n == 0:
        sys.stderr.write("crd2schema: no CustomResourceDefinition in %s\n" % " ".join(argv[2:]))
        return 1
    print("crd2schema: %d schemas in %s" % (n, argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

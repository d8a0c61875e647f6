#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks k8s/base: every pod that takes the shopstream ConfigMap reaches PostgreSQL with
sslmode=verify-full (or require) and mounts the CA its sslrootcert names, mounts the file
SHOPSTREAM_KAFKA_PROPERTIES_FILE names, and no DSN carries a password."""
import os
import re
import sys

try:
    import yaml
except ImportError:
    print("skipped: python3-yaml is not installed")
    sys.exit(77)

base = sys.argv[1]
with open(os.path.join(base, "kustomization.yaml")) as f:
    kust = yaml.safe_load(f)
docs = []
for res in kust["resources"]:
    with open(os.path.join(base, res)) as f:
        docs += [d for d in yaml.safe_load_all(f) if d]

problems = []
config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "shopstream")["data"]
dsn = config.get("SHOPSTREAM_PG_DSN", "")
kw = dict(re.findall(r"(\w+)\s*=\s*(\S+)", dsn))
if kw.get("sslmode") not in ("verify-full", "require"):
    problems.append(f"SHOPSTREAM_PG_DSN has sslmode={kw.get('sslmode')}, want verify-full or require")
if kw.get("sslmode") == "verify-full" and "sslrootcert" not in kw:
    problems.append("sslmode=verify-full without sslrootcert")
if re.search(r"password", dsn, re.I) or "@" in dsn:
    problems.append("SHOPSTREAM_PG_DSN carries a password: use PGPASSFILE")
props_file = config.get("SHOPSTREAM_KAFKA_PROPERTIES_FILE")
if not props_file:
    problems.append("no SHOPSTREAM_KAFKA_PROPERTIES_FILE in the ConfigMap")

files = [p for p in (kw.get("sslrootcert"), props_file) if p]
pods = 0
for d in docs:
    if d["kind"] not in ("Deployment", "Job"):
        continue
    spec = d["spec"]["template"]["spec"]
    volumes = {v["name"] for v in spec.get("volumes", [])}
    for c in spec["containers"]:
        if not any(e.get("configMapRef", {}).get("name") == "shopstream" for e in c.get("envFrom", [])):
            continue
        pods += 1
        mounts = c.get("volumeMounts", [])
        for path in files:
            m = [v for v in mounts if path.startswith(v["mountPath"].rstrip("/") + "/")]
            if not m:
                problems.append(f"{d['metadata']['name']}/{c['name']}: nothing mounted at {path}")
            elif m[0]["name"] not in volumes:
                problems.append(f"{d['metadata']['name']}/{c['name']}: volume {m[0]['name']} is not defined")
if pods < 3:
    problems.append(f"only {pods} containers take the shopstream ConfigMap, want edge, projector and setup")
for p in problems:
    print("FAIL -", p)
if not problems:
    print(f"ok - {pods} containers: PostgreSQL sslmode={kw['sslmode']} with its CA mounted, Kafka properties mounted")
sys.exit(1 if problems else 0)

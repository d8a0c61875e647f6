#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What kubeconform cannot see: the rendered manifests against the code and each other.

Usage: checks.py REPO OVERLAY_NAME RENDERED.yaml
- a KafkaTopic for every stream of proto/core/event_topic.c and the dead-letter topic;
- a Deployment for every role of workers/core/roles.c and notify, each with a
  PodDisruptionBudget, /healthz liveness and /readyz readiness on the worker port (the
  edge's on its own), and a grace period;
- a ScaledObject for every consumer group but ml's (one owner and a standby), with
  minReplicaCount 1, maxReplicaCount not above the partitions of every topic,
  offsetResetPolicy equal to the workers' auto.offset.reset (workers/kafka.c) and
  excludePersistentLag "true"; an HPA on CPU for the edge;
- SHOPSTREAM_KAFKA_PARTITIONS equal to the KafkaTopics' partitions."""
import re
import sys

import yaml


def fail(msg):
    print("checks: FAIL: " + msg)
    return 1


def main(repo, overlay, rendered):
    docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
    by = {}
    for d in docs:
        by.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    errors = 0

    src = open(repo + "/proto/core/event_topic.c").read()
    streams = re.findall(r'\[SHOP_STREAM_[A-Z]+\] = "([a-z]+)"', src) + ["dlq"]
    topics = {t["spec"].get("topicName", t["metadata"]["name"]): t for t in by.get("KafkaTopic", {}).values()}
    for s in streams:
        if "shopstream.%s.v1" % s not in topics:
            errors += fail("no KafkaTopic for shopstream.%s.v1" % s)
    partitions = {t["spec"]["partitions"] for t in topics.values()}
    if len(partitions) != 1:
        errors += fail("topics with different partition counts: %s" % sorted(partitions))
    nparts = min(partitions) if partitions else 0
    cm = by.get("ConfigMap", {}).get("shopstream", {}).get("data", {})
    if cm.get("SHOPSTREAM_KAFKA_PARTITIONS") != str(nparts):
        errors += fail("SHOPSTREAM_KAFKA_PARTITIONS %r, topics have %d" % (cm.get("SHOPSTREAM_KAFKA_PARTITIONS"), nparts))
    for t in topics.values():
        c = t["spec"].get("config", {})
        for key in ("retention.ms", "cleanup.policy", "min.insync.replicas"):
            if key not in c:
                errors += fail("KafkaTopic %s has no %s" % (t["metadata"]["name"], key))
        if c.get("min.insync.replicas", 0) > t["spec"]["replicas"]:
            errors += fail("KafkaTopic %s: min.insync.replicas above replicas" % t["metadata"]["name"])

    roles = re.findall(r'\.name = "([a-z]+)"', open(repo + "/workers/core/roles.c").read())
    reset = re.search(r'"auto.offset.reset", "([a-z]+)"', open(repo + "/workers/kafka.c").read()).group(1)
    deployments = by.get("Deployment", {})
    pdb_targets = {p["spec"]["selector"]["matchLabels"]["app"] for p in by.get("PodDisruptionBudget", {}).values()}
    for role in ["edge"] + roles + ["notify"]:
        name = "shopstream-" + role
        d = deployments.get(name)
        if d is None:
            errors += fail("no Deployment %s" % name)
            continue
        spec = d["spec"]["template"]["spec"]
        c = spec["containers"][0]
        port = "http"
        if c.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/healthz":
            errors += fail("%s: liveness is not /healthz" % name)
        if c.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
            errors += fail("%s: readiness is not /readyz" % name)
        ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
        want = 8080 if role == "edge" else 9090
        if ports.get(port) != want:
            errors += fail("%s: probe port %s is %s, not %d" % (name, port, ports.get(port), want))
        if "terminationGracePeriodSeconds" not in spec:
            errors += fail("%s: no terminationGracePeriodSeconds" % name)
        res = c.get("resources", {})
        if not res.get("requests") or not res.get("limits"):
            errors += fail("%s: requests and limits wanted" % name)
        if d["spec"]["selector"]["matchLabels"]["app"] not in pdb_targets:
            errors += fail("%s: no PodDisruptionBudget" % name)

    scaled = {s["spec"]["scaleTargetRef"]["name"]: s for s in by.get("ScaledObject", {}).values()}
    for role in [r for r in roles if r != "ml"] + ["notify"]:
        s = scaled.get("shopstream-" + role)
        if s is None:
            errors += fail("no ScaledObject for shopstream-%s" % role)
            continue
        if s["spec"].get("minReplicaCount") != 1:
            errors += fail("%s: minReplicaCount is not 1" % role)
        if s["spec"].get("maxReplicaCount", 100) > nparts:
            errors += fail("%s: maxReplicaCount %s above %d partitions" % (role, s["spec"].get("maxReplicaCount"), nparts))
        for t in s["spec"]["triggers"]:
            m = t["metadata"]
            if m.get("consumerGroup") != "shopstream-" + role:
                errors += fail("%s: consumerGroup %s" % (role, m.get("consumerGroup")))
            if m.get("offsetResetPolicy") != reset:
                errors += fail("%s: offsetResetPolicy %s, the workers use %s" % (role, m.get("offsetResetPolicy"), reset))
            if m.get("excludePersistentLag") != "true":
                errors += fail("%s: excludePersistentLag is not \"true\"" % role)
            if int(m.get("lagThreshold", "0")) <= 0:
                errors += fail("%s: no lagThreshold" % role)
    if "shopstream-ml" in scaled:
        errors += fail("ml has a ScaledObject: more ml pods are only standbys")
    hpa = by.get("HorizontalPodAutoscaler", {}).get("shopstream-edge")
    if hpa is None or hpa["spec"]["metrics"][0]["resource"]["name"] != "cpu":
        errors += fail("no CPU HPA for the edge")

    if errors == 0:
        print("checks: %s: %d objects, %d topics of %d partitions, %d deployments, %d scaled objects: ok"
              % (overlay, len(docs), len(topics), nparts, len(deployments), len(scaled)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))

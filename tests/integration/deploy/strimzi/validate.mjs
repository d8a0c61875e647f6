// SPDX-License-Identifier: MIT
// Validates KafkaTopic objects against Strimzi's published schema: the validators that
// @kubernetes-models/strimzi-kafka-operator generates from Strimzi's own release CRDs
// (strimzi-crds-0.49.0.yaml and 1.0.0.yaml; its package.json names them). Run by
// ../run.sh with Debian's node: node validate.mjs MODULES_DIR OBJECTS.json, where
// OBJECTS.json is a JSON array of {file, object}. Prints one line per object; exits 1 if
// any object fails or none was given. The schema has no additionalProperties (the API
// server prunes unknown fields), so kubeconform -strict against our own schema still
// catches those; this catches what the published schema says: types, enums, bounds.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [modules, objectsFile] = process.argv.slice(2);
const pkg = `${modules}/@kubernetes-models/strimzi-kafka-operator`;
const versions = {};
for (const v of ["v1", "v1beta2"]) {
    const file = `${pkg}/_schemas/KafkaStrimziIo${v[0].toUpperCase()}${v.slice(1)}KafkaTopic.js`;
    versions[`kafka.strimzi.io/${v}`] = (await import(pathToFileURL(file).href)).validate;
}
const objects = JSON.parse(readFileSync(objectsFile, "utf8"));
let bad = 0;
for (const { file, object } of objects) {
    const name = `${file}: ${object.kind} ${object.metadata?.name}`;
    const validate = versions[object.apiVersion];
    if (!validate) {
        console.log(`FAIL ${name}: apiVersion ${object.apiVersion} is not one Strimzi serves`);
        bad++;
    } else if (!validate(object)) {
        const why = validate.errors.map((e) => `${e.instancePath || "/"} ${e.keyword} ${JSON.stringify(e.params)}`);
        console.log(`FAIL ${name}: ${why.join("; ")}`);
        bad++;
    } else {
        console.log(`ok   ${name} (${object.apiVersion})`);
    }
}
if (objects.length === 0) {
    console.log("FAIL no KafkaTopic given");
    bad++;
}
process.exit(bad ? 1 : 0);

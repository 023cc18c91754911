"""Writes one Grafana dashboard per service into dashboards/ (the monitoring component's ConfigMaps).

    python3 k8s/components/monitoring/dashboards.py            # write them
    python3 k8s/components/monitoring/dashboards.py --check    # fail if a written one differs

The dashboards are code here, so that a panel changed once changes for every service; the JSON is
committed beside it for kustomize, and deploy/validate-k8s.sh checks the two agree. Every series a
panel names must be in metrics.txt (validate-k8s.sh checks that too).
"""
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).parent

# The ConfigMap's name part, the process's service.name (Prometheus's `job`), the title.
SERVICES = [
    ("gateway", "valued-gateway", "Gateway (web pages)"),
    ("nomination", "valued-nomination", "Nomination"),
    ("voting", "valued-voting", "Voting"),
    ("survey-feedback", "valued-surveyfeedback", "Survey and feedback"),
    ("notification", "valued-notification", "Notification"),
]


def panel(title, unit, *targets, description=""):
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend}
                    for i, (expr, legend) in enumerate(targets)],
    }


def rpc_panels(job):
    calls = f'valued_rpc_server_requests_total{{job="{job}"}}'
    errors = f'valued_rpc_server_requests_total{{job="{job}",rpc_grpc_status_code=~"2|4|13|14|15"}}'
    buckets = f'valued_rpc_server_duration_seconds_bucket{{job="{job}",rpc_method!~"grpc\\\\..*"}}'
    return [
        panel("Calls by method", "reqps",
              (f"sum by (rpc_method) (rate({calls}[5m]))", "{{rpc_method}}")),
        panel("Server errors by method", "percentunit",
              (f"sum by (rpc_method) (rate({errors}[5m])) / sum by (rpc_method) (rate({calls}[5m]))",
               "{{rpc_method}}"),
              description="UNKNOWN, DEADLINE_EXCEEDED, INTERNAL, UNAVAILABLE, DATA_LOSS as a share of calls"),
        panel("Calls by status code", "reqps",
              (f"sum by (rpc_grpc_status_code) (rate({calls}[5m]))", "code {{rpc_grpc_status_code}}")),
        panel("Duration p50 and p99 by method", "s",
              (f"histogram_quantile(0.5, sum by (rpc_method, le) (rate({buckets}[5m])))", "p50 {{rpc_method}}"),
              (f"histogram_quantile(0.99, sum by (rpc_method, le) (rate({buckets}[5m])))", "p99 {{rpc_method}}")),
        panel("Calls shed by method", "reqps",
              (f'sum by (rpc_method) (rate(valued_rpc_server_shed_total{{job="{job}"}}[5m]))', "{{rpc_method}}"),
              description="Refused at once, RESOURCE_EXHAUSTED: the server had grpc.max_in_flight calls in flight"),
    ]


def http_panels(job):
    requests = f'valued_http_server_requests_total{{job="{job}"}}'
    failed = f'valued_http_server_requests_total{{job="{job}",http_response_status_class="5xx"}}'
    buckets = f'valued_http_server_duration_seconds_bucket{{job="{job}"}}'
    return [
        panel("Requests by route", "reqps",
              (f"sum by (http_route, http_request_method) (rate({requests}[5m]))",
               "{{http_request_method}} {{http_route}}")),
        panel("5xx by route", "percentunit",
              (f"sum by (http_route) (rate({failed}[5m])) / sum by (http_route) (rate({requests}[5m]))",
               "{{http_route}}")),
        panel("Responses by status class", "reqps",
              (f"sum by (http_response_status_class) (rate({requests}[5m]))", "{{http_response_status_class}}")),
        panel("Duration p50 and p99 by route", "s",
              (f"histogram_quantile(0.5, sum by (http_route, le) (rate({buckets}[5m])))", "p50 {{http_route}}"),
              (f"histogram_quantile(0.99, sum by (http_route, le) (rate({buckets}[5m])))", "p99 {{http_route}}")),
    ]


def service_panels(job):
    return [
        panel("Database pool in use", "percentunit",
              (f'sum by (instance, pool) (valued_db_pool_connections{{job="{job}",state="in_use"}})'
               f' / max by (instance, pool) (valued_db_pool_max_connections{{job="{job}"}})',
               "{{pool}} {{instance}}")),
        panel("Oldest unpublished outbox event", "s",
              (f'max by (service) (valued_outbox_oldest_age_seconds{{job="{job}"}})', "{{service}}")),
        panel("Events handled by consumer and outcome", "ops",
              (f'sum by (consumer, outcome) (rate(valued_events_total{{job="{job}"}}[5m]))',
               "{{consumer}} {{outcome}}")),
        panel("Dead-letter queue depth", "short",
              (f'max by (consumer) (valued_bus_dlq_messages{{job="{job}"}})', "{{consumer}}")),
        panel("Without the broker since", "dateTimeFromNow",
              (f'max by (instance, part) (valued_bus_down_since_seconds{{job="{job}"}} * 1000) > 0',
               "{{part}} {{instance}}")),
    ]


def notification_panels(job):
    emails = f'valued_notification_emails_total{{job="{job}"}}'
    return [
        panel("Emails by outcome", "ops",
              (f"sum by (outcome) (rate({emails}[5m]))", "{{outcome}}")),
        panel("Longest-waiting due email", "s",
              (f'max(valued_notification_due_oldest_age_seconds{{job="{job}"}})', "due for")),
    ]


def dashboard(name, job, title):
    panels = http_panels(job) if name == "gateway" else rpc_panels(job) + service_panels(job)
    if name == "notification":
        panels += notification_panels(job)
    for i, p in enumerate(panels):
        p["id"] = i + 1
        p["gridPos"] = {"h": 8, "w": 12, "x": 12 * (i % 2), "y": 8 * (i // 2)}
    return {
        "uid": f"valued-{name}",
        "title": f"Valued: {title}",
        "tags": ["valued"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [
            {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus"},
        ]},
        "panels": panels,
    }


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for name, job, title in SERVICES:
        path = HERE / "dashboards" / f"{name}.json"
        text = json.dumps(dashboard(name, job, title), indent=2) + "\n"
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
        else:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
    if stale:
        print("dashboards out of date (run k8s/components/monitoring/dashboards.py): " + ", ".join(stale),
              file=sys.stderr)
        sys.exit(1)


main()

//! One nomination through the processes with telemetry on, exported to an OTLP receiver as an
//! operator's collector would get it: its trace runs unbroken from the gateway's request through
//! the nomination RPC, the broker and the confirmation email's send, and the metrics the
//! dashboards and alerts read arrive from each process.

use valued_testkit::otlp::{OtlpReceiver, ReceivedPoint, ReceivedSpan};
use valued_testkit::rabbitmq::Vhost;

use crate::cluster::{Cluster, SERVICES, nomination_form};
use crate::journey::email_to;

#[tokio::test]
async fn a_nomination_is_one_trace_from_the_form_to_the_email() {
    let otlp = OtlpReceiver::start().await.unwrap();
    let endpoint = otlp.endpoint();
    let server = valued_testkit::postgres::server_url();
    let mut cluster = Cluster::start_on(
        Vhost::create().unwrap(),
        |_| server.clone(),
        &[
            ("VALUED__TELEMETRY__OTLP_ENDPOINT", &endpoint),
            // The SDK's standard variable: spans leave in batches every 200 ms, not every 5 s.
            ("OTEL_BSP_SCHEDULE_DELAY", "200"),
        ],
    )
    .await;
    let campaign = cluster.demo_campaign().await;
    let csrf = cluster.csrf_token().await;
    let response = cluster
        .post_nomination(
            &csrf,
            &nomination_form(&campaign, "Sam Patel", "alex.jones@example.org"),
        )
        .await;
    assert!(response.status().is_redirection(), "{}", response.status());
    email_to(
        &cluster,
        "alex.jones@example.org",
        "Confirm your nomination of Sam Patel",
    )
    .await;
    // Stopped with SIGTERM, each process exports what it has not yet sent as it exits.
    for service in SERVICES {
        assert!(
            cluster.terminate(service).await,
            "{service} stopped cleanly"
        );
    }

    let spans = otlp.spans();
    let request = spans
        .iter()
        .find(|s| s.service == "valued-gateway" && s.name == "POST /campaigns/{slug}/nominate")
        .unwrap_or_else(|| panic!("no span of the form's POST among {}", names(&spans)));
    assert!(
        request.parent_span_id.is_empty(),
        "the browser's request starts the trace"
    );
    let trace: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| s.trace_id == request.trace_id)
        .collect();
    let find = |service: &str, name: &str| {
        trace
            .iter()
            .find(|s| s.service == service && s.name == name)
            .unwrap_or_else(|| {
                panic!(
                    "no span {name:?} of {service} in the request's trace; it has {}; all spans: {}",
                    names(trace.iter().copied()),
                    names(&spans)
                )
            })
    };
    let rpc = find(
        "valued-nomination",
        "valued.nomination.v1.NominationService/SubmitNomination",
    );
    let event = "nomination.confirmation_requested.v1";
    let publish = find("valued-nomination", &format!("{event} publish"));
    let receive = find("valued-notification", &format!("{event} receive"));
    let send = find("valued-notification", "email send");
    assert_eq!(
        send.attributes.get("email.template").map(String::as_str),
        Some("nomination_confirm")
    );
    // Each hop is a child of the one before: the RPC of the gateway's call, the publish and the
    // receive of the RPC that wrote the event, the send of the receive that recorded the email.
    let beneath = |child: &ReceivedSpan, ancestor: &ReceivedSpan| {
        let mut at = child;
        while let Some(parent) = trace.iter().find(|s| s.span_id == at.parent_span_id) {
            if parent.span_id == ancestor.span_id {
                return true;
            }
            at = parent;
        }
        false
    };
    assert!(beneath(rpc, request), "the RPC is beneath the request");
    assert!(beneath(publish, rpc), "the publish is beneath the RPC");
    assert!(beneath(receive, rpc), "the receive is beneath the RPC");
    assert!(beneath(send, receive), "the send is beneath the receive");

    // The metrics the dashboards read, from the processes that record them.
    let points = otlp.points();
    let recorded = |service: &str, metric: &str, attributes: &[(&str, &str)]| {
        points.iter().any(|p: &ReceivedPoint| {
            p.service == service
                && p.metric == metric
                && p.value > 0.0
                && attributes
                    .iter()
                    .all(|(k, v)| p.attributes.get(*k).map(String::as_str) == Some(*v))
        })
    };
    assert!(recorded(
        "valued-gateway",
        "valued.http.server.requests",
        &[
            ("http.route", "/campaigns/{slug}/nominate"),
            ("http.request.method", "POST"),
            ("http.response.status_class", "3xx"),
        ]
    ));
    assert!(recorded(
        "valued-nomination",
        "valued.rpc.server.requests",
        &[
            (
                "rpc.method",
                "valued.nomination.v1.NominationService/SubmitNomination"
            ),
            ("rpc.grpc.status_code", "0"),
        ]
    ));
    assert!(recorded(
        "valued-nomination",
        "valued.rpc.server.duration",
        &[(
            "rpc.method",
            "valued.nomination.v1.NominationService/SubmitNomination"
        )]
    ));
    assert!(recorded(
        "valued-notification",
        "valued.notification.emails",
        &[("outcome", "sent"), ("template", "nomination_confirm")]
    ));
    assert!(recorded(
        "valued-notification",
        "valued.db.pool.max_connections",
        &[("pool", "notification.sender")]
    ));
    assert!(
        points.iter().any(|p| p.service == "valued-nomination"
            && p.metric == "valued.outbox.oldest_age"
            && p.attributes.get("service").map(String::as_str) == Some("nomination")),
        "the nomination relay reports its outbox's age"
    );
}

fn names<'a>(spans: impl IntoIterator<Item = &'a ReceivedSpan>) -> String {
    spans
        .into_iter()
        .map(|s| format!("{}:{}", s.service, s.name))
        .collect::<Vec<_>>()
        .join(", ")
}

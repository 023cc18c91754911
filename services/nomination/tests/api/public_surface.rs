//! Every method of NominationService is classified: on the reviewed public list, or refusing a caller
//! without a verified ID token. A new RPC that is neither fails here.

use valued_nomination::PUBLIC_RPCS;
use valued_platform::grpc::Credentialed;
use valued_proto::nomination::v1::nomination_service_server::SERVICE_NAME;

use crate::helpers::{spawn_admin_app, verified_token};

/// The full gRPC name of every method of NominationService, read from the generated descriptor.
fn every_method() -> Vec<String> {
    let methods = valued_testkit::grpc::methods_of(SERVICE_NAME).unwrap();
    assert!(methods.len() > PUBLIC_RPCS.len(), "{methods:?}");
    methods
}

/// Calls `path` with an empty message (valid for any proto3 request), optionally with a bearer token.
async fn call_empty(
    channel: &Credentialed,
    path: &str,
    bearer: Option<&str>,
) -> Result<(), tonic::Status> {
    valued_testkit::grpc::call_empty(channel.clone(), path, bearer).await
}

#[test]
fn the_public_list_names_only_real_methods_once() {
    let methods = every_method();
    for (i, (path, reason)) in PUBLIC_RPCS.iter().enumerate() {
        assert!(methods.contains(&(*path).to_owned()), "{path} is no method");
        assert!(!reason.trim().is_empty(), "{path} says why it is public");
        assert!(
            PUBLIC_RPCS[..i].iter().all(|(other, _)| other != path),
            "{path} is listed twice"
        );
    }
}

#[tokio::test]
async fn every_method_off_the_public_list_refuses_anonymous_and_forged_callers() {
    let (app, provider) = spawn_admin_app().await;
    let channel = app.channel.clone();
    let real = verified_token(&provider, "someone@example.org").await;
    let tampered = format!("{}x", &real[..real.len() - 1]);
    let forged = ["not-a-token", "a.b.c", tampered.as_str()];

    let mut refused = 0;
    for method in every_method() {
        let anonymous = call_empty(&channel, &method, None).await;
        if PUBLIC_RPCS.iter().any(|(public, _)| *public == method) {
            // Public methods answer whatever they answer to an empty form, but never ask for sign-in.
            if let Err(status) = anonymous {
                assert_ne!(
                    status.code(),
                    tonic::Code::Unauthenticated,
                    "public {method}: {status:?}"
                );
                assert_ne!(
                    status.code(),
                    tonic::Code::Unimplemented,
                    "{method}: {status:?}"
                );
            }
            continue;
        }
        let status = anonymous.expect_err(&format!(
            "{method} answered an anonymous caller: put it on PUBLIC_RPCS with a reason, or make it an admin call"
        ));
        assert_eq!(
            status.code(),
            tonic::Code::Unauthenticated,
            "{method} without a token: {status:?}"
        );
        for token in forged {
            let status = call_empty(&channel, &method, Some(token))
                .await
                .expect_err(&format!("{method} answered the forged token {token}"));
            assert_eq!(
                status.code(),
                tonic::Code::Unauthenticated,
                "{method} with the forged token {token}: {status:?}"
            );
        }
        refused += 1;
    }
    assert_eq!(refused, every_method().len() - PUBLIC_RPCS.len());
}

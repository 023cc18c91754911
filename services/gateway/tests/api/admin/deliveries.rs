//! The deliveries search: the gateway asks the real nomination service whether the caller is a
//! platform admin before it asks the notification service (a stand-in here, as the gateway's tests
//! have no real one) for anything.

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use tonic::{Request, Response, Status};
use valued_nomination::auth::Role;
use valued_proto::notification::v1::notification_service_server::{
    NotificationService, NotificationServiceServer,
};
use valued_proto::notification::v1::*;

use super::{PLATFORM_ADMIN, spawn_full};
use crate::fake::service;

/// Answers ListDeliveries with two deliveries to whoever is asked about, and records the requests.
#[derive(Clone, Default)]
struct FakeNotification {
    asked: Arc<Mutex<Vec<ListDeliveriesRequest>>>,
    reviewed: Arc<Mutex<Vec<ReviewHeldLetterRequest>>>,
}

impl FakeNotification {
    async fn serve(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(NotificationServiceServer::new(self.clone()))
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
        );
        format!("http://{address}")
    }

    fn asked(&self) -> Vec<ListDeliveriesRequest> {
        self.asked.lock().unwrap().clone()
    }
}

type Answer<T> = Result<Response<T>, Status>;

service! { FakeNotification: NotificationService {
    async fn list_deliveries(
        &self,
        request: Request<ListDeliveriesRequest>,
    ) -> Answer<ListDeliveriesResponse> {
        let request = request.into_inner();
        self.asked.lock().unwrap().push(request.clone());
        let delivery = |template: &str, status: &str, attempts: u32, last_error: &str| Delivery {
            id: uuid::Uuid::new_v4().to_string(),
            recipient: request.recipient.clone(),
            template: template.into(),
            subject: format!("About {template}"),
            status: status.into(),
            attempts,
            last_error: last_error.into(),
            created_at: Some(prost_types::Timestamp {
                seconds: 1_790_000_000,
                nanos: 0,
            }),
            ..Delivery::default()
        };
        Ok(Response::new(ListDeliveriesResponse {
            deliveries: vec![
                delivery("nominee_thanked", "failed", 5, "550 5.1.1 mailbox unavailable"),
                delivery("nomination_received", "sent", 1, ""),
            ],
        }))
    }

    async fn list_held_letters(
        &self,
        _: Request<ListHeldLettersRequest>,
    ) -> Answer<ListHeldLettersResponse> {
        Ok(Response::new(ListHeldLettersResponse {
            letters: vec![HeldLetter {
                id: "0193a1b2-0000-7000-8000-0000000000aa".into(),
                mp: Some(Mp {
                    name: "Alex Baker".into(),
                    constituency_name: "Aldershot".into(),
                    party: "Labour".into(),
                }),
                supporter_name: "Chris Example".into(),
                supporter_email: "chris@example.org".into(),
                supporter_postcode: "GU11 1AA".into(),
                body: "The porters at Frimley Park <b>deserve</b> recognition.".into(),
                confirmed_at: None,
            }],
        }))
    }

    async fn review_held_letter(
        &self,
        request: Request<ReviewHeldLetterRequest>,
    ) -> Answer<ReviewHeldLetterResponse> {
        let request = request.into_inner();
        let status = if request.send { "sent" } else { "discarded" };
        self.reviewed.lock().unwrap().push(request);
        Ok(Response::new(ReviewHeldLetterResponse {
            status: status.into(),
        }))
    }
} refused {
    get_unsubscribe: GetUnsubscribeRequest => GetUnsubscribeResponse;
    unsubscribe: UnsubscribeRequest => UnsubscribeResponse;
    find_mp: FindMpRequest => FindMpResponse;
    write_to_mp: WriteToMpRequest => WriteToMpResponse;
    confirm_mp_letter: ConfirmMpLetterRequest => ConfirmMpLetterResponse;
    get_mp_letter_wording: GetMpLetterWordingRequest => GetMpLetterWordingResponse;
    set_mp_letter_wording: SetMpLetterWordingRequest => SetMpLetterWordingResponse;
    count_mp_letters: CountMpLettersRequest => CountMpLettersResponse;
    import_mps: ImportMpsRequest => ImportMpsResponse;
    list_mp_emails: ListDeliveriesRequest => ListDeliveriesResponse;
    preview_templates: PreviewTemplatesRequest => PreviewTemplatesResponse;
    list_held_letter_decisions: ListHeldLetterDecisionsRequest => ListHeldLetterDecisionsResponse;
    export_person: ExportPersonRequest => ExportPersonResponse;
}}

#[tokio::test]
async fn deliveries_are_refused_to_a_trust_admin_and_shown_to_a_platform_admin() {
    let notification = FakeNotification::default();
    let admin = spawn_full(true, &notification.serve().await).await;
    let search = "/admin/deliveries?recipient=sam.patel%40example.org";

    let moderator = "moderator.rj1@valued.example.org";
    admin.grant(moderator, Role::TrustAdmin, "RJ1").await;
    let theirs = admin.sign_in(moderator).await;
    let home = admin.page(&theirs, "/admin", StatusCode::OK).await;
    assert!(!home.contains("/admin/deliveries"), "{home}");
    let refused = admin.page(&theirs, search, StatusCode::FORBIDDEN).await;
    assert!(refused.contains("You do not have permission to see this page"));
    assert!(notification.asked().is_empty(), "asked before the check");

    let browser = admin.sign_in(PLATFORM_ADMIN).await;
    let home = admin.page(&browser, "/admin", StatusCode::OK).await;
    assert!(home.contains("href=\"/admin/deliveries\""), "{home}");
    let empty = admin
        .page(&browser, "/admin/deliveries", StatusCode::OK)
        .await;
    assert!(empty.contains("name=\"recipient\""));
    assert!(notification.asked().is_empty(), "no address, no search");

    let page = admin.page(&browser, search, StatusCode::OK).await;
    assert_eq!(notification.asked()[0].recipient, "sam.patel@example.org");
    assert!(page.contains("2 emails to sam.patel@example.org"), "{page}");
    assert!(page.contains("value=\"sam.patel@example.org\""));
    for shown in [
        "nominee_thanked",
        "nomination_received",
        "failed",
        "sent",
        "550 5.1.1 mailbox unavailable",
        "21 September 2026 at 15:13:20 (UK time)",
    ] {
        assert!(page.contains(shown), "{shown}: {page}");
    }
    assert!(page.contains("Attempts </span>5"));
}

#[tokio::test]
async fn held_letters_are_reviewed_by_platform_admins_only() {
    let notification = FakeNotification::default();
    let admin = spawn_full(true, &notification.serve().await).await;

    let moderator = "moderator.rj1@valued.example.org";
    admin.grant(moderator, Role::TrustAdmin, "RJ1").await;
    let theirs = admin.sign_in(moderator).await;
    admin
        .page(&theirs, "/admin/held-letters", StatusCode::FORBIDDEN)
        .await;

    let browser = admin.sign_in(PLATFORM_ADMIN).await;
    let page = admin
        .page(&browser, "/admin/held-letters", StatusCode::OK)
        .await;
    assert!(page.contains("To Alex Baker, MP for Aldershot"), "{page}");
    assert!(
        page.contains("&lt;b&gt;deserve&lt;&#x2f;b&gt;"),
        "escaped: {page}"
    );
    let token = super::csrf(&page);
    let sent = browser
        .post(admin.url("/admin/held-letters/0193a1b2-0000-7000-8000-0000000000aa"))
        .form(&[("csrf_token", token.as_str()), ("decision", "send")])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let after = admin
        .page(&browser, "/admin/held-letters?done=sent", StatusCode::OK)
        .await;
    assert!(after.contains("The letter has been sent to the MP."));
    let reviewed = notification.reviewed.lock().unwrap().clone();
    assert_eq!(reviewed.len(), 1);
    assert!(reviewed[0].send);
}

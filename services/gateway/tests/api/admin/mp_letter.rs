//! "Email your MP" for a campaign: its admins set and clear the letter supporters start from, and
//! its pages offer that letter and say how many have written. The real nomination service holds
//! the demo campaign; the notification service is a stand-in that keeps the wording, counts as
//! told and refuses as the real one does (its own tests check who it lets set the wording).

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use tonic::{Request, Response, Status};
use valued_platform::domain::FieldError;
use valued_platform::grpc::invalid_argument;
use valued_proto::notification::v1::notification_service_server::{
    NotificationService, NotificationServiceServer,
};
use valued_proto::notification::v1::*;

use super::{Admin, PLATFORM_ADMIN, csrf, spawn_full};
use crate::fake::service;

const WORDING: &str = "Dear MP, I am writing as your constituent about the porters and cleaners \
    of our hospital, who keep it running and are rarely thanked.";

#[derive(Default)]
struct State {
    wording: String,
    /// What SetMpLetterWording was asked, with whether it carried an ID token.
    set: Vec<(SetMpLetterWordingRequest, bool)>,
    written: Vec<WriteToMpRequest>,
    /// SetMpLetterWording answers PERMISSION_DENIED.
    refuse: bool,
}

#[derive(Clone, Default)]
struct FakeNotification(Arc<Mutex<State>>);

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

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap()
    }
}

type Answer<T> = Result<Response<T>, Status>;

fn alex_baker() -> Mp {
    Mp {
        name: "Alex Baker".into(),
        constituency_name: "Aldershot".into(),
        party: "Labour".into(),
    }
}

service! { FakeNotification: NotificationService {
    async fn get_mp_letter_wording(
        &self,
        _: Request<GetMpLetterWordingRequest>,
    ) -> Answer<GetMpLetterWordingResponse> {
        Ok(Response::new(GetMpLetterWordingResponse {
            wording: self.state().wording.clone(),
            set_at: None,
        }))
    }

    async fn set_mp_letter_wording(
        &self,
        request: Request<SetMpLetterWordingRequest>,
    ) -> Answer<SetMpLetterWordingResponse> {
        let signed = request.metadata().contains_key("authorization");
        let request = request.into_inner();
        let mut state = self.state();
        state.set.push((request.clone(), signed));
        if state.refuse {
            return Err(Status::permission_denied("your account may not change this"));
        }
        if request.clear {
            state.wording.clear();
        } else if request.wording.trim().chars().count() < 50 {
            return Err(invalid_argument(&[FieldError::new(
                "wording",
                "Write the suggested letter (50 characters or more)",
            )]));
        } else {
            state.wording = request.wording.trim().to_owned();
        }
        Ok(Response::new(SetMpLetterWordingResponse {
            wording: state.wording.clone(),
        }))
    }

    async fn count_mp_letters(
        &self,
        request: Request<CountMpLettersRequest>,
    ) -> Answer<CountMpLettersResponse> {
        let for_campaign = !request.into_inner().campaign_id.is_empty();
        Ok(Response::new(CountMpLettersResponse {
            letters: 12_345,
            campaign_letters: if for_campaign { 1_234 } else { 0 },
        }))
    }

    async fn find_mp(&self, _: Request<FindMpRequest>) -> Answer<FindMpResponse> {
        Ok(Response::new(FindMpResponse { mp: Some(alex_baker()) }))
    }

    async fn write_to_mp(&self, request: Request<WriteToMpRequest>) -> Answer<WriteToMpResponse> {
        self.state().written.push(request.into_inner());
        Ok(Response::new(WriteToMpResponse { mp: Some(alex_baker()) }))
    }
} refused {
    list_deliveries: ListDeliveriesRequest => ListDeliveriesResponse;
    get_unsubscribe: GetUnsubscribeRequest => GetUnsubscribeResponse;
    unsubscribe: UnsubscribeRequest => UnsubscribeResponse;
    confirm_mp_letter: ConfirmMpLetterRequest => ConfirmMpLetterResponse;
    list_held_letters: ListHeldLettersRequest => ListHeldLettersResponse;
    review_held_letter: ReviewHeldLetterRequest => ReviewHeldLetterResponse;
    list_mp_emails: ListDeliveriesRequest => ListDeliveriesResponse;
    preview_templates: PreviewTemplatesRequest => PreviewTemplatesResponse;
    list_held_letter_decisions: ListHeldLetterDecisionsRequest => ListHeldLetterDecisionsResponse;
    export_person: ExportPersonRequest => ExportPersonResponse;
    import_mps: ImportMpsRequest => ImportMpsResponse;
}}

async fn spawn() -> (Admin, FakeNotification) {
    let notification = FakeNotification::default();
    let admin = spawn_full(true, &notification.serve().await).await;
    (admin, notification)
}

impl Admin {
    fn mp_letter_path(&self) -> String {
        format!("/admin/campaigns/{}/mp-letter", self.campaign.slug)
    }

    fn letter_page(&self) -> String {
        format!("/campaigns/{}/write-to-your-mp", self.campaign.slug)
    }

    /// Sends the letter form `form` (a page's HTML) to `path`, from Chris in Aldershot.
    async fn post_letter(
        &self,
        browser: &reqwest::Client,
        path: &str,
        form: &str,
        body: &str,
    ) -> reqwest::Response {
        browser
            .post(self.url(path))
            .form(&[
                ("csrf_token", csrf(form).as_str()),
                ("website", ""),
                ("postcode", "GU11 1AA"),
                ("name", "Chris Example"),
                ("email", "chris@example.org"),
                ("body", body),
            ])
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_campaigns_admin_sets_and_clears_the_suggested_letter() {
    let (admin, notification) = spawn().await;
    let browser = admin.sign_in(PLATFORM_ADMIN).await;
    let path = admin.mp_letter_path();
    let home = admin.page(&browser, "/admin", StatusCode::OK).await;
    assert!(home.contains(&format!("href=\"{path}\"")), "{home}");
    let page = admin.page(&browser, &path, StatusCode::OK).await;
    assert!(
        page.contains("The campaign suggests no letter yet"),
        "{page}"
    );
    assert!(page.contains("<strong>1,234 people have written to their MP</strong>"));

    // Too short: the NHS.UK error summary, what was typed kept, and nothing stored.
    let token = csrf(&page);
    let short = browser
        .post(admin.url(&path))
        .form(&[
            ("csrf_token", token.as_str()),
            ("wording", "Dear MP <b>hi</b>"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    let short = short.text().await.unwrap();
    assert!(short.contains("nhsuk-error-summary"), "{short}");
    assert!(short.contains("href=\"#wording\""), "{short}");
    assert!(short.contains("Write the suggested letter (50 characters or more)"));
    assert!(
        short.contains("Dear MP &lt;b&gt;hi&lt;&#x2f;b&gt;"),
        "{short}"
    );
    assert_eq!(notification.state().wording, "");

    // Saved: the campaign described as the nomination service describes it, the admin's token
    // forwarded, and the banner.
    let saved = browser
        .post(admin.url(&path))
        .form(&[("csrf_token", token.as_str()), ("wording", WORDING)])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(super::location(&saved), format!("{path}?done=saved"));
    let (asked, signed) = notification.state().set.last().unwrap().clone();
    assert!(signed, "the admin's ID token is forwarded");
    let described = asked.campaign.unwrap();
    assert_eq!(
        (
            described.campaign_id.as_str(),
            described.slug.as_str(),
            described.scope.as_str(),
            described.scope_code.as_str()
        ),
        (
            admin.campaign.id.as_str(),
            admin.campaign.slug.as_str(),
            admin.campaign.scope.as_str(),
            admin.campaign.scope_code.as_str()
        )
    );
    let page = admin
        .page(&browser, &format!("{path}?done=saved"), StatusCode::OK)
        .await;
    assert!(page.contains("The suggested letter is saved"));
    assert!(page.contains("porters and cleaners"));
    assert!(page.contains("Remove the suggested letter"));

    // Cleared by its button.
    let cleared = browser
        .post(admin.url(&format!("{path}/clear")))
        .form(&[("csrf_token", csrf(&page).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(super::location(&cleared), format!("{path}?done=cleared"));
    assert!(notification.state().set.last().unwrap().0.clear);
    assert_eq!(notification.state().wording, "");

    // A form without its CSRF token changes nothing.
    let asked = notification.state().set.len();
    let forged = browser
        .post(admin.url(&path))
        .form(&[
            ("csrf_token", "0".repeat(64).as_str()),
            ("wording", WORDING),
        ])
        .send()
        .await
        .unwrap();
    assert_ne!(forged.status(), StatusCode::OK);
    assert_eq!(notification.state().set.len(), asked);
    assert_eq!(notification.state().wording, "");
}

#[tokio::test]
async fn the_services_refusal_is_a_forbidden_page() {
    let (admin, notification) = spawn().await;
    notification.state().refuse = true;
    let browser = admin.sign_in(PLATFORM_ADMIN).await;
    let path = admin.mp_letter_path();
    let page = admin.page(&browser, &path, StatusCode::OK).await;
    let refused = browser
        .post(admin.url(&path))
        .form(&[("csrf_token", csrf(&page).as_str()), ("wording", WORDING)])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(notification.state().wording, "");
}

#[tokio::test]
async fn supporters_start_from_the_campaigns_letter_and_see_how_many_have_written() {
    let (admin, notification) = spawn().await;
    let browser = super::browser();
    let campaign_page = format!("/campaigns/{}", admin.campaign.slug);

    // No wording: the campaign page offers no letter, but says how many have written.
    let page = admin.page(&browser, &campaign_page, StatusCode::OK).await;
    assert!(
        page.contains("1,234 people have written to their MP."),
        "{page}"
    );
    assert!(!page.contains("write-to-your-mp"), "{page}");

    notification.state().wording = WORDING.into();
    let page = admin.page(&browser, &campaign_page, StatusCode::OK).await;
    let letter_page = admin.letter_page();
    assert!(
        page.contains(&format!("<a href=\"{letter_page}\">Email your MP</a>")),
        "{page}"
    );

    // The campaign's letter page: the count, the postcode asked for on the same path.
    let start = admin.page(&browser, &letter_page, StatusCode::OK).await;
    assert!(
        start.contains("1,234 people have written to their MP."),
        "{start}"
    );
    assert!(
        start.contains(&format!("action=\"{letter_page}\"")),
        "{start}"
    );
    assert!(start.contains(&admin.campaign.name));

    // The letter starts from the wording, and goes for the campaign.
    let form = admin
        .page(
            &browser,
            &format!("{letter_page}?postcode=GU11+1AA"),
            StatusCode::OK,
        )
        .await;
    assert!(form.contains("Write to Alex Baker"), "{form}");
    assert!(form.contains("porters and cleaners"), "{form}");
    assert!(form.contains("The campaign suggests this letter to start from"));
    let own_words = format!("{WORDING} My mother was looked after by them.");
    let sent = admin
        .post_letter(&browser, &letter_page, &form, &own_words)
        .await;
    assert_eq!(sent.status(), StatusCode::OK);
    assert!(sent.text().await.unwrap().contains("Check your email"));
    let written = notification.state().written.last().unwrap().clone();
    assert_eq!(written.campaign_id, admin.campaign.id);
    assert_eq!(written.body, own_words);

    // The page without a campaign still works: every letter counted, none suggested, none named.
    let general = admin
        .page(&browser, "/write-to-your-mp", StatusCode::OK)
        .await;
    assert!(
        general.contains("12,345 people have written to their MP."),
        "{general}"
    );
    let form = admin
        .page(
            &browser,
            "/write-to-your-mp?postcode=GU11+1AA",
            StatusCode::OK,
        )
        .await;
    assert!(!form.contains("porters and cleaners"), "{form}");
    admin
        .post_letter(&browser, "/write-to-your-mp", &form, &own_words)
        .await;
    assert_eq!(notification.state().written.last().unwrap().campaign_id, "");
}

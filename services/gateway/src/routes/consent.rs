//! The nominee says what may be shared about them, from the link in the email they were sent,
//! `/consent/{token}`: three separate questions, each "no" until they say "yes". The link was sent to
//! one address, and answering shows it is the nominee's; whoever holds it and is not the nominee says
//! so (`/consent/{token}/not-me`), which records nothing and turns the link off.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use tonic::Code;
use valued_platform::domain::{FieldError, FieldErrors};
use valued_proto::nomination::v1::{
    Consent, DisownConsentLinkRequest, GetConsentRequest, GetConsentResponse, RecordConsentRequest,
};

use super::forms::{self, PathParams, PublicForm, PublicPost, Sender, form_page, status_for};
use crate::clients::{Clients, NOMINATION};
use crate::error::{GatewayError, Result};
use crate::routes::page::{self, segment};
use crate::templates;

/// The questions, in page order: field, question, hint.
const QUESTIONS: [(&str, &str, &str); 3] = [
    (
        "listed_publicly",
        "Can we show your name on the campaign's website?",
        "If you are a finalist or winner, we would list your name, job title and trust.",
    ),
    (
        "story_published",
        "Can we publish the story of your nomination?",
        "The words your nominator wrote about you, on the campaign's website and in our news.",
    ),
    (
        "shared_with_mp",
        "Can we tell your MP about your nomination?",
        "Your MP would get your name, job title, trust and the story, to recognise your work.",
    ),
];

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ConsentForm {
    listed_publicly: String,
    story_published: String,
    shared_with_mp: String,
}

impl PublicPost for ConsentForm {
    const NAME: &'static str = "consent form";
}

/// "This is not me": a button.
#[derive(Debug, Default, Deserialize)]
pub struct NotMeForm {}

impl PublicPost for NotMeForm {
    const NAME: &'static str = "not me form";

    /// The consent page the button is on.
    fn back(_path: &str, params: &PathParams) -> String {
        format!("/consent/{}", segment(params.get("token")))
    }
}

impl ConsentForm {
    fn of(consent: &Consent) -> Self {
        let answer = |yes: bool| if yes { "yes" } else { "no" }.to_owned();
        Self {
            listed_publicly: answer(consent.listed_publicly),
            story_published: answer(consent.story_published),
            shared_with_mp: answer(consent.shared_with_mp),
        }
    }

    fn parse(&self) -> std::result::Result<Consent, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let mut yes = |field: &str, value: &str| {
            errors.check(match value {
                "yes" => Ok(true),
                "no" => Ok(false),
                _ => Err(FieldError::new(field, "Select yes or no")),
            })
        };
        let listed_publicly = yes("listed_publicly", &self.listed_publicly);
        let story_published = yes("story_published", &self.story_published);
        let shared_with_mp = yes("shared_with_mp", &self.shared_with_mp);
        errors.into_result()?;
        Ok(Consent {
            listed_publicly: listed_publicly.unwrap_or_default(),
            story_published: story_published.unwrap_or_default(),
            shared_with_mp: shared_with_mp.unwrap_or_default(),
        })
    }
}

/// `GET /consent/{token}`
pub async fn show(
    State(clients): State<Clients>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let Some(nominee) = nominee(&clients, &token).await? else {
        return not_found();
    };
    let form = ConsentForm::of(&nominee.consent.unwrap_or_default());
    render(&headers, &token, &nominee, &form, &[])
}

/// `POST /consent/{token}`
pub async fn record(
    State(clients): State<Clients>,
    Path(token): Path<String>,
    headers: HeaderMap,
    PublicForm { form, sender }: PublicForm<ConsentForm>,
) -> Result<Response> {
    if !forms::is_token(&token) {
        return not_found();
    }
    let consent = match form.parse() {
        Ok(consent) => consent,
        Err(errors) => {
            let Some(nominee) = nominee(&clients, &token).await? else {
                return not_found();
            };
            return render(&headers, &token, &nominee, &form, &errors);
        }
    };
    if sender == Sender::Bot {
        return thanked(&Consent::default());
    }
    let recorded = clients
        .nomination
        .clone()
        .record_consent(RecordConsentRequest {
            consent_token: token,
            consent: Some(consent),
        })
        .await;
    match recorded {
        Ok(_) => {
            tracing::info!("consent recorded");
            thanked(&consent)
        }
        Err(status) if status.code() == Code::NotFound => not_found(),
        Err(status) => Err(GatewayError::from_status(NOMINATION, status)),
    }
}

/// `POST /consent/{token}/not-me`
pub async fn not_me(
    State(clients): State<Clients>,
    Path(token): Path<String>,
    PublicForm { sender, .. }: PublicForm<NotMeForm>,
) -> Result<Response> {
    if !forms::is_token(&token) {
        return not_found();
    }
    if sender == Sender::Bot {
        return disowned();
    }
    let disowned_link = clients
        .nomination
        .clone()
        .disown_consent_link(DisownConsentLinkRequest {
            consent_token: token,
        })
        .await;
    match disowned_link {
        Ok(_) => {
            tracing::info!("consent link disowned by its holder");
            disowned()
        }
        Err(status) if status.code() == Code::NotFound => not_found(),
        Err(status) if status.code() == Code::FailedPrecondition => forms::message_page(
            StatusCode::CONFLICT,
            "This link has already been used to answer",
            &[
                "Someone answered through this link, from the email address it was sent to, so \
                 it cannot be turned off here.",
                "If that was not the person nominated, contact the campaign team at their trust.",
            ],
            None,
        ),
        Err(status) => Err(GatewayError::from_status(NOMINATION, status)),
    }
}

fn disowned() -> Result<Response> {
    forms::message_page(
        StatusCode::OK,
        "Thank you for telling us",
        &[
            "We have recorded nothing, and this link no longer works.",
            "We will not send anything more about this nomination to your email address.",
        ],
        None,
    )
}

/// The nominee the token is for; `None` for an unknown token.
async fn nominee(clients: &Clients, token: &str) -> Result<Option<GetConsentResponse>> {
    if !forms::is_token(token) {
        return Ok(None);
    }
    let answer = clients
        .nomination
        .clone()
        .get_consent(GetConsentRequest {
            consent_token: token.to_owned(),
        })
        .await;
    forms::found(NOMINATION, answer)
}

#[derive(Serialize)]
struct Question {
    field: &'static str,
    legend: &'static str,
    hint: &'static str,
}

fn render(
    headers: &HeaderMap,
    token: &str,
    nominee: &GetConsentResponse,
    form: &ConsentForm,
    errors: &[FieldError],
) -> Result<Response> {
    form_page(headers, status_for(errors), |csrf_token| {
        page_html(token, nominee, form, errors, csrf_token)
    })
}

fn page_html(
    token: &str,
    nominee: &GetConsentResponse,
    form: &ConsentForm,
    errors: &[FieldError],
    csrf_token: &str,
) -> std::result::Result<String, minijinja::Error> {
    let fields = QUESTIONS.map(|(field, _, _)| field);
    let summary = forms::summary(errors, &fields, |_| None);
    let questions: Vec<Question> = QUESTIONS
        .iter()
        .map(|(field, legend, hint)| Question {
            field,
            legend,
            hint,
        })
        .collect();
    templates::render(
        "consent.html",
        context! {
            page_title => "What can we share about your nomination?",
            nominee_name => nominee.nominee_name,
            campaign_name => nominee.campaign_name,
            nomination_count => nominee.nomination_count,
            answered => nominee.answered,
            questions => questions,
            answers => form,
            yes_no => [
                context! { value => "yes", label => "Yes" },
                context! { value => "no", label => "No" },
            ],
            action => format!("/consent/{}", segment(token)),
            not_me_action => format!("/consent/{}/not-me", segment(token)),
            csrf_token => csrf_token,
            field_errors => forms::by_field(&summary),
            errors => summary,
        },
    )
}

fn thanked(consent: &Consent) -> Result<Response> {
    let answers: Vec<(&str, bool)> = QUESTIONS
        .iter()
        .zip([
            consent.listed_publicly,
            consent.story_published,
            consent.shared_with_mp,
        ])
        .map(|((_, legend, _), yes)| (*legend, yes))
        .collect();
    page::render(
        "consented.html",
        context! {
            page_title => "Thank you, we have saved your answers",
            answers => answers,
        },
    )
}

fn not_found() -> Result<Response> {
    forms::message_page(
        StatusCode::NOT_FOUND,
        "This link does not work",
        &[
            "Check that you opened the whole link from the email we sent you.",
            "If it still does not work, contact the campaign team at your trust.",
        ],
        None,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn every_answer_is_yes_or_no() {
        let form: ConsentForm = serde_urlencoded::from_str(
            "listed_publicly=yes&story_published=no&shared_with_mp=maybe",
        )
        .unwrap();
        assert_eq!(
            form.parse().unwrap_err(),
            [FieldError::new("shared_with_mp", "Select yes or no")]
        );
        let form: ConsentForm =
            serde_urlencoded::from_str("listed_publicly=yes&story_published=no&shared_with_mp=no")
                .unwrap();
        assert_eq!(
            form.parse().unwrap(),
            Consent {
                listed_publicly: true,
                story_published: false,
                shared_with_mp: false,
            }
        );
    }

    #[test]
    fn the_page_asks_three_questions_each_no_until_answered() {
        let nominee = GetConsentResponse {
            nominee_name: "Sam <b>Patel</b>".into(),
            campaign_name: "Health Heroes 2026".into(),
            nomination_count: 3,
            consent: None,
            answered: false,
        };
        let html = page_html(
            "tok",
            &nominee,
            &ConsentForm::of(&Consent::default()),
            &[],
            "csrf",
        )
        .unwrap();
        assert!(html.contains("Sam &lt;b&gt;Patel&lt;&#x2f;b&gt;"));
        assert_eq!(html.matches(r#"value="no" checked"#).count(), 3);
        assert_eq!(html.matches(r#"value="yes" checked"#).count(), 0);
        for (field, _, _) in QUESTIONS {
            assert!(html.contains(&format!(r#"id="{field}""#)), "{field}");
        }
        assert!(html.contains("3 people nominated you"));
    }
}

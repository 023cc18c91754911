//! "Email your MP": find the MP by postcode, write in your own words, confirm by the emailed link.
//! The notification service does the checking (copies, limits, unusual volume) and the sending; these
//! pages ask, show what it says, and never confirm on GET (email scanners open links).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;
use tonic::Code;
use valued_platform::domain::FieldError;
use valued_proto::notification::v1::{ConfirmMpLetterRequest, FindMpRequest, Mp, WriteToMpRequest};

use super::forms::{self, Button, PublicForm, PublicPost, Sender, form_page};
use crate::clients::{Clients, NOTIFICATION};
use crate::error::{GatewayError, Result, rate_limited};
use crate::routes::page::{self, segment};
use crate::templates;

const PATH: &str = "/write-to-your-mp";
/// The letter form's inputs, in page order.
const LETTER_FIELDS: [&str; 3] = ["name", "email", "body"];

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FindQuery {
    postcode: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LetterForm {
    postcode: String,
    name: String,
    email: String,
    body: String,
}

impl PublicPost for LetterForm {
    const NAME: &'static str = "letter form";
}

/// `GET /write-to-your-mp[?postcode=…]`: the postcode question, then the MP and the letter form.
pub async fn show(
    State(clients): State<Clients>,
    Query(query): Query<FindQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    if query.postcode.trim().is_empty() {
        return postcode_page(&headers, &query.postcode, &[]);
    }
    let found = clients
        .notification
        .clone()
        .find_mp(FindMpRequest {
            postcode: query.postcode.clone(),
        })
        .await;
    match found {
        Ok(response) => {
            let mp = response.into_inner().mp.unwrap_or_default();
            letter_page(
                &headers,
                &mp,
                &LetterForm {
                    postcode: query.postcode,
                    ..LetterForm::default()
                },
                &[],
            )
        }
        Err(status) => match postcode_problem(&status) {
            Some(error) => postcode_page(&headers, &query.postcode, &[error]),
            None => Err(GatewayError::from_status(NOTIFICATION, status)),
        },
    }
}

/// `POST /write-to-your-mp`: the letter.
pub async fn write(
    State(clients): State<Clients>,
    headers: HeaderMap,
    PublicForm { form, sender }: PublicForm<LetterForm>,
) -> Result<Response> {
    if sender == Sender::Bot {
        return check_email("your MP");
    }
    let written = clients
        .notification
        .clone()
        .write_to_mp(WriteToMpRequest {
            name: form.name.clone(),
            email: form.email.clone(),
            postcode: form.postcode.clone(),
            body: form.body.clone(),
        })
        .await;
    match written {
        Ok(response) => {
            let mp = response.into_inner().mp.unwrap_or_default();
            check_email(&mp.name)
        }
        Err(status) => {
            let errors = match status.code() {
                Code::InvalidArgument => valued_platform::grpc::field_errors(&status),
                // A copy or the daily limit: the service's explanation, for the whole letter.
                Code::FailedPrecondition => vec![FieldError::new("", status.message())],
                _ if rate_limited(&status) => vec![FieldError::new("", status.message())],
                _ => match postcode_problem(&status) {
                    Some(error) => return postcode_page(&headers, &form.postcode, &[error]),
                    None => return Err(GatewayError::from_status(NOTIFICATION, status)),
                },
            };
            let mp = clients
                .notification
                .clone()
                .find_mp(FindMpRequest {
                    postcode: form.postcode.clone(),
                })
                .await
                .map(|r| r.into_inner().mp.unwrap_or_default());
            match mp {
                Ok(mp) => letter_page(&headers, &mp, &form, &errors),
                Err(_) => postcode_page(&headers, &form.postcode, &errors),
            }
        }
    }
}

/// What a refused postcode means for the person typing it, when it is about the postcode.
fn postcode_problem(status: &tonic::Status) -> Option<FieldError> {
    match status.code() {
        Code::InvalidArgument => Some(FieldError::new(
            "postcode",
            "Enter a full UK postcode, like SW1A 0AA",
        )),
        Code::NotFound | Code::FailedPrecondition => {
            Some(FieldError::new("postcode", status.message()))
        }
        _ => None,
    }
}

fn postcode_page(headers: &HeaderMap, postcode: &str, errors: &[FieldError]) -> Result<Response> {
    let summary = forms::summary(errors, &["postcode"], |_| Some("postcode"));
    form_page(headers, forms::status_for(errors), |_| {
        templates::render(
            "write_to_mp/postcode.html",
            context! {
                page_title => "Email your MP",
                postcode => postcode,
                errors => summary,
                error => forms::by_field(&summary),
            },
        )
    })
}

fn letter_page(
    headers: &HeaderMap,
    mp: &Mp,
    form: &LetterForm,
    errors: &[FieldError],
) -> Result<Response> {
    let summary = forms::summary(errors, &LETTER_FIELDS, |_| None);
    form_page(headers, forms::status_for(errors), |csrf_token| {
        templates::render(
            "write_to_mp/letter.html",
            context! {
                page_title => format!("Write to {}", mp.name),
                mp_name => &mp.name,
                constituency => &mp.constituency_name,
                party => &mp.party,
                postcode => &form.postcode,
                name => &form.name,
                email => &form.email,
                body => &form.body,
                csrf_token => csrf_token,
                errors => summary,
                error => forms::by_field(&summary),
            },
        )
    })
}

fn check_email(mp_name: &str) -> Result<Response> {
    page::render(
        "write_to_mp/check_email.html",
        context! { page_title => "Check your email", mp_name => mp_name },
    )
}

/// `GET /write-to-your-mp/confirm/{token}`: a button, not the sending.
pub async fn show_confirm(Path(token): Path<String>, headers: HeaderMap) -> Result<Response> {
    if !forms::is_token(&token) {
        return link_not_found();
    }
    forms::button_page(
        &headers,
        "write_to_mp/confirm.html",
        "Send your letter",
        &format!("{PATH}/confirm/{}", segment(&token)),
    )
}

/// `POST /write-to-your-mp/confirm/{token}`
pub async fn confirm(
    State(clients): State<Clients>,
    Path(token): Path<String>,
    PublicForm { sender, .. }: PublicForm<Button>,
) -> Result<Response> {
    if !forms::is_token(&token) {
        return link_not_found();
    }
    if sender == Sender::Bot {
        return sent("your MP", "sent");
    }
    match clients
        .notification
        .clone()
        .confirm_mp_letter(ConfirmMpLetterRequest { token })
        .await
    {
        Ok(response) => {
            let response = response.into_inner();
            sent(&response.mp_name, &response.status)
        }
        Err(status) if status.code() == Code::NotFound => link_not_found(),
        // Two letters to this MP confirmed today already: this one waits unsent.
        Err(status) if status.code() == Code::FailedPrecondition => forms::message_page(
            StatusCode::CONFLICT,
            "Your letter has not been sent",
            &[status.message()],
            None,
        ),
        Err(status) => Err(GatewayError::from_status(NOTIFICATION, status)),
    }
}

fn sent(mp_name: &str, status: &str) -> Result<Response> {
    page::render(
        "write_to_mp/sent.html",
        context! {
            page_title => if status == "held" { "Your letter is waiting to be checked" } else { "Your letter has been sent" },
            mp_name => mp_name,
            held => status == "held",
        },
    )
}

fn link_not_found() -> Result<Response> {
    forms::message_page(
        StatusCode::NOT_FOUND,
        "This link does not work",
        &[
            "Check that you opened the whole link from the email we sent you.",
            "If it still does not work, you can write your letter again.",
        ],
        Some((PATH, "Email your MP")),
    )
}

//! "Email your MP": find the MP by postcode, write in your own words, confirm by the emailed link.
//! The notification service does the checking (copies, limits, unusual volume) and the sending; these
//! pages ask, show what it says, and never confirm on GET (email scanners open links).
//!
//! A campaign's own page (`/campaigns/{slug}/write-to-your-mp`) starts the letter from the wording
//! the campaign's organisers suggest, for the supporter to make their own, and the letter carries
//! the campaign it was written for. Both pages say how many have written.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;
use tonic::Code;
use valued_platform::domain::FieldError;
use valued_proto::nomination::v1::Campaign;
use valued_proto::notification::v1::{
    ConfirmMpLetterRequest, CountMpLettersRequest, FindMpRequest, GetMpLetterWordingRequest, Mp,
    WriteToMpRequest,
};

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

/// The campaign a letter is written for, and the wording its organisers suggest (empty when none).
struct ForCampaign {
    id: String,
    name: String,
    wording: String,
}

/// Which page a letter is written on: the general one, or a campaign's with what it suggests.
struct Desk {
    /// Where the forms go.
    path: String,
    /// The campaign it is written for.
    campaign: Option<ForCampaign>,
    /// "1,234 people have written to their MP", when anyone has.
    written: Option<String>,
}

impl Desk {
    async fn general(clients: &Clients) -> Self {
        let written = letters_written(clients, None).await.map(|(all, _)| all);
        Self {
            path: PATH.to_owned(),
            campaign: None,
            written: written.and_then(people_have_written),
        }
    }

    async fn of_campaign(clients: &Clients, slug: &str) -> Result<Self> {
        let campaign = clients.campaign(slug).await?;
        let (wording, written) = tokio::join!(
            suggested_wording(clients, &campaign.id),
            letters_written(clients, Some(&campaign.id))
        );
        Ok(Self {
            path: campaign_path(&campaign),
            written: written.and_then(|(_, ours)| people_have_written(ours)),
            campaign: Some(ForCampaign {
                id: campaign.id,
                name: campaign.name,
                wording,
            }),
        })
    }

    fn campaign_id(&self) -> String {
        self.campaign
            .as_ref()
            .map(|c| c.id.clone())
            .unwrap_or_default()
    }

    fn wording(&self) -> &str {
        self.campaign
            .as_ref()
            .map(|c| c.wording.as_str())
            .unwrap_or_default()
    }

    fn campaign_name(&self) -> &str {
        self.campaign
            .as_ref()
            .map(|c| c.name.as_str())
            .unwrap_or_default()
    }
}

/// A campaign's page for writing to MPs.
pub fn campaign_path(campaign: &Campaign) -> String {
    format!("/campaigns/{}{PATH}", segment(&campaign.slug))
}

/// The campaign's suggested wording, empty when it has none or it cannot be read (the page works
/// without it).
pub async fn suggested_wording(clients: &Clients, campaign_id: &str) -> String {
    match clients
        .notification
        .clone()
        .get_mp_letter_wording(GetMpLetterWordingRequest {
            campaign_id: campaign_id.to_owned(),
        })
        .await
    {
        Ok(response) => response.into_inner().wording,
        Err(status) => {
            tracing::warn!(%status, "cannot read the campaign's suggested letter");
            String::new()
        }
    }
}

/// How many letters were confirmed, in all and for `campaign_id`; `None` when the count cannot be
/// read (the page shows without it).
pub async fn letters_written(clients: &Clients, campaign_id: Option<&str>) -> Option<(u64, u64)> {
    match clients
        .notification
        .clone()
        .count_mp_letters(CountMpLettersRequest {
            campaign_id: campaign_id.unwrap_or_default().to_owned(),
        })
        .await
    {
        Ok(response) => {
            let count = response.into_inner();
            Some((count.letters, count.campaign_letters))
        }
        Err(status) => {
            tracing::warn!(%status, "cannot count the letters to MPs");
            None
        }
    }
}

/// "1 person has written to their MP", "1,234 people have written to their MP"; nothing for none.
pub fn people_have_written(letters: u64) -> Option<String> {
    match letters {
        0 => None,
        1 => Some("1 person has written to their MP".to_owned()),
        n => Some(format!("{} people have written to their MP", thousands(n))),
    }
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// `GET /write-to-your-mp[?postcode=…]`: the postcode question, then the MP and the letter form.
pub async fn show(
    State(clients): State<Clients>,
    Query(query): Query<FindQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    let desk = Desk::general(&clients).await;
    show_on(&clients, &desk, query, &headers).await
}

/// `GET /campaigns/{slug}/write-to-your-mp[?postcode=…]`: as [`show`], the letter started from the
/// campaign's suggested wording.
pub async fn show_for_campaign(
    State(clients): State<Clients>,
    Path(slug): Path<String>,
    Query(query): Query<FindQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    let desk = Desk::of_campaign(&clients, &slug).await?;
    show_on(&clients, &desk, query, &headers).await
}

async fn show_on(
    clients: &Clients,
    desk: &Desk,
    query: FindQuery,
    headers: &HeaderMap,
) -> Result<Response> {
    if query.postcode.trim().is_empty() {
        return postcode_page(headers, desk, &query.postcode, &[]);
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
                headers,
                desk,
                &mp,
                &LetterForm {
                    postcode: query.postcode,
                    body: desk.wording().to_owned(),
                    ..LetterForm::default()
                },
                &[],
            )
        }
        Err(status) => match postcode_problem(&status) {
            Some(error) => postcode_page(headers, desk, &query.postcode, &[error]),
            None => Err(GatewayError::from_status(NOTIFICATION, status)),
        },
    }
}

/// `POST /write-to-your-mp`: the letter.
pub async fn write(
    State(clients): State<Clients>,
    headers: HeaderMap,
    form: PublicForm<LetterForm>,
) -> Result<Response> {
    let desk = Desk {
        path: PATH.to_owned(),
        campaign: None,
        written: None,
    };
    write_on(&clients, desk, &headers, form).await
}

/// `POST /campaigns/{slug}/write-to-your-mp`: the letter, written for the campaign.
pub async fn write_for_campaign(
    State(clients): State<Clients>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    form: PublicForm<LetterForm>,
) -> Result<Response> {
    let campaign = clients.campaign(&slug).await?;
    let desk = Desk {
        path: campaign_path(&campaign),
        campaign: Some(ForCampaign {
            id: campaign.id,
            name: campaign.name,
            wording: String::new(),
        }),
        written: None,
    };
    write_on(&clients, desk, &headers, form).await
}

async fn write_on(
    clients: &Clients,
    desk: Desk,
    headers: &HeaderMap,
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
            campaign_id: desk.campaign_id(),
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
                    Some(error) => return postcode_page(headers, &desk, &form.postcode, &[error]),
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
                Ok(mp) => letter_page(headers, &desk, &mp, &form, &errors),
                Err(_) => postcode_page(headers, &desk, &form.postcode, &errors),
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

fn postcode_page(
    headers: &HeaderMap,
    desk: &Desk,
    postcode: &str,
    errors: &[FieldError],
) -> Result<Response> {
    let summary = forms::summary(errors, &["postcode"], |_| Some("postcode"));
    form_page(headers, forms::status_for(errors), |_| {
        templates::render(
            "write_to_mp/postcode.html",
            context! {
                page_title => "Email your MP",
                action => &desk.path,
                campaign_name => desk.campaign_name(),
                written => &desk.written,
                postcode => postcode,
                errors => summary,
                error => forms::by_field(&summary),
            },
        )
    })
}

fn letter_page(
    headers: &HeaderMap,
    desk: &Desk,
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
                action => &desk.path,
                campaign_name => desk.campaign_name(),
                suggested => !desk.wording().is_empty(),
                written => &desk.written,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_people_with_thousands_grouped() {
        assert_eq!(people_have_written(0), None);
        assert_eq!(
            people_have_written(1).as_deref(),
            Some("1 person has written to their MP")
        );
        assert_eq!(
            people_have_written(1234).as_deref(),
            Some("1,234 people have written to their MP")
        );
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}

//! DKIM: with a key configured every email carries a `DKIM-Signature` for our domain and selector
//! that verifies (checked here by a small RFC 6376 verifier for relaxed/relaxed rsa-sha256, with
//! the public half of the test key), and covers the one-click unsubscribe headers.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::Pkcs1v15Sign;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};
use valued_testkit::smtp::ReceivedEmail;

use crate::helpers::{envelope, spawn_app_with};
use crate::sending_policy::{finalist, nominee_thanked};

/// A key made for these tests only (`openssl genrsa -traditional 2048`); it signs nothing real.
const TEST_KEY: &str = include_str!("dkim-test-only.pem");

/// The header fields of `raw`, unfolded, in order: (name, value as sent).
fn fields(raw: &str) -> Vec<(String, String)> {
    let head = raw.split("\r\n\r\n").next().unwrap_or_default();
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.1.push_str("\r\n");
                last.1.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.to_owned(), value.to_owned()));
        }
    }
    fields
}

fn squeeze(text: &str) -> String {
    text.split([' ', '\t'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// RFC 6376 3.4.2, relaxed header canonicalization.
fn relaxed_header(name: &str, value: &str) -> String {
    let value = squeeze(&value.replace("\r\n", ""));
    format!("{}:{}", name.to_ascii_lowercase(), value.trim())
}

/// RFC 6376 3.4.4, relaxed body canonicalization.
fn relaxed_body(body: &str) -> String {
    let mut lines: Vec<String> = body
        .split("\r\n")
        .map(|line| {
            let collapsed: String = {
                let mut out = String::new();
                let mut in_space = false;
                for c in line.chars() {
                    if c == ' ' || c == '\t' {
                        in_space = true;
                    } else {
                        if in_space {
                            out.push(' ');
                        }
                        in_space = false;
                        out.push(c);
                    }
                }
                out
            };
            collapsed
        })
        .collect();
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    if lines.is_empty() {
        return String::new();
    }
    lines.join("\r\n") + "\r\n"
}

/// The tags of a DKIM-Signature value.
fn tags(value: &str) -> Vec<(String, String)> {
    value
        .split(';')
        .filter_map(|tag| tag.split_once('='))
        .map(|(k, v)| {
            let v: String = v.chars().filter(|c| !c.is_whitespace()).collect();
            (k.trim().to_owned(), v)
        })
        .collect()
}

fn tag<'a>(tags: &'a [(String, String)], name: &str) -> &'a str {
    tags.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// Verifies the message's DKIM-Signature with `key`; `Err` says what does not match.
fn verify(raw: &str, key: &RsaPublicKey) -> Result<Vec<(String, String)>, String> {
    let all = fields(raw);
    let (dkim_name, dkim_value) = all
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("DKIM-Signature"))
        .ok_or("no DKIM-Signature")?;
    let tags = tags(&dkim_value.replace("\r\n", ""));
    if tag(&tags, "a") != "rsa-sha256" || tag(&tags, "c") != "relaxed/relaxed" {
        return Err(format!("unexpected a= or c=: {tags:?}"));
    }
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    let body_hash = STANDARD.encode(Sha256::digest(relaxed_body(body).as_bytes()));
    if body_hash != tag(&tags, "bh") {
        return Err("the body hash does not match".into());
    }
    let mut signed = String::new();
    let mut used = vec![false; all.len()];
    for name in tag(&tags, "h").split(':') {
        // The last unused field of that name, working upwards.
        if let Some(i) = (0..all.len())
            .rev()
            .find(|&i| !used[i] && all[i].0.eq_ignore_ascii_case(name))
        {
            used[i] = true;
            signed.push_str(&relaxed_header(&all[i].0, &all[i].1));
            signed.push_str("\r\n");
        }
    }
    // The signature header itself, with b= emptied and no final CRLF.
    let unsigned = {
        let value = dkim_value.replace("\r\n", "");
        let start = value
            .find("b=")
            .filter(|&i| i == 0 || value[..i].trim_end().ends_with(';'));
        let start = start.ok_or("no b= tag")?;
        let end = value[start..].find(';').map_or(value.len(), |e| start + e);
        format!("{}b={}", &value[..start], &value[end..])
    };
    signed.push_str(&relaxed_header(dkim_name, &unsigned));
    let signature = STANDARD
        .decode(tag(&tags, "b"))
        .map_err(|e| format!("b= is not base64: {e}"))?;
    key.verify(
        Pkcs1v15Sign::new::<Sha256>(),
        &Sha256::digest(signed.as_bytes()),
        &signature,
    )
    .map_err(|e| format!("the signature does not verify: {e}"))?;
    Ok(tags)
}

fn raw(email: &ReceivedEmail) -> String {
    String::from_utf8(email.raw.clone()).unwrap()
}

#[tokio::test]
async fn with_a_key_every_email_is_signed_and_the_signature_verifies() {
    let app = spawn_app_with(|settings| {
        settings.dkim.selector = "valued2026".into();
        settings.dkim.domain = "valued.example.org".into();
        settings.dkim.private_key_pem = TEST_KEY.into();
    })
    .await;
    let public = RsaPrivateKey::from_pkcs1_pem(TEST_KEY)
        .unwrap()
        .to_public_key();
    app.publish(&envelope(&nominee_thanked("sam@example.org")))
        .await;
    let emails = app
        .publish_and_receive(&envelope(&finalist("jo@example.org")), 2)
        .await;
    assert_eq!(emails.len(), 2);
    for email in &emails {
        let raw = raw(email);
        let tags = verify(&raw, &public).unwrap_or_else(|e| panic!("{e}\n{raw}"));
        assert_eq!(tag(&tags, "d"), "valued.example.org");
        assert_eq!(tag(&tags, "s"), "valued2026");
        let signed = tag(&tags, "h").to_ascii_lowercase();
        for header in [
            "from",
            "to",
            "subject",
            "date",
            "message-id",
            "list-unsubscribe",
            "list-unsubscribe-post",
        ] {
            assert!(
                signed.split(':').any(|h| h == header),
                "{header} in h={signed}"
            );
        }
        // A changed subject no longer verifies: the check above is a real one.
        let tampered = raw.replacen("Subject: ", "Subject: Re: ", 1);
        assert!(verify(&tampered, &public).is_err());
    }
}

#[tokio::test]
async fn without_a_key_nothing_is_signed() {
    let app = spawn_app_with(|_| {}).await;
    let emails = app
        .publish_and_receive(&envelope(&finalist("jo@example.org")), 1)
        .await;
    assert!(emails[0].header("DKIM-Signature").is_none());
}

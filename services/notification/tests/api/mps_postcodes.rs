//! Workplace postcode → 2024 constituency, against a local stand-in for postcodes.io.

use std::time::Duration;

use valued_notification::mps::{LookupError, PostcodeLookup, PostcodesSettings};

use crate::mps_support::{FakePostcodes, fresh_database};

const ALDERSHOT: &str = "E14001063";

#[tokio::test]
async fn a_known_site_is_answered_without_asking() {
    let (_, db) = fresh_database().await;
    let service = FakePostcodes::start(&[]).await;
    let lookup = PostcodeLookup::new(db, &service.settings()).unwrap();
    for (postcode, code) in [
        ("se1 7eh", "E14001559"),
        ("SE19RT", "E14001085"),
        ("B15 2GW", "E14001092"),
        ("NG7 2UH", "E14001412"),
    ] {
        assert_eq!(lookup.lookup(postcode).await.unwrap().as_str(), code);
    }
    assert_eq!(service.requests(), 0);
}

#[tokio::test]
async fn the_service_is_asked_once_per_postcode_even_across_restarts() {
    let (_, db) = fresh_database().await;
    let service = FakePostcodes::start(&[("GU11 1PZ", ALDERSHOT)]).await;
    let lookup = PostcodeLookup::new(db.clone(), &service.settings()).unwrap();
    assert_eq!(lookup.lookup("GU11 1PZ").await.unwrap().as_str(), ALDERSHOT);
    assert_eq!(service.requests(), 1);
    assert_eq!(
        lookup.lookup(" gu111pz ").await.unwrap().as_str(),
        ALDERSHOT
    );
    let restarted = PostcodeLookup::new(db, &service.settings()).unwrap();
    assert_eq!(
        restarted.lookup("GU11 1PZ").await.unwrap().as_str(),
        ALDERSHOT
    );
    assert_eq!(
        service.requests(),
        1,
        "the second and third lookups came from the cache"
    );
}

#[tokio::test]
async fn an_unknown_postcode_is_a_clear_error() {
    let (_, db) = fresh_database().await;
    let service = FakePostcodes::start(&[]).await;
    let lookup = PostcodeLookup::new(db, &service.settings()).unwrap();
    let error = lookup.lookup("ZZ9 9ZZ").await.unwrap_err();
    assert!(
        matches!(error, LookupError::UnknownPostcode(_)),
        "{error:?}"
    );
    assert!(!error.is_temporary());
    assert_eq!(
        error.to_string(),
        "the postcode service does not know the postcode ZZ9 9ZZ"
    );

    let error = lookup.lookup("not a postcode").await.unwrap_err();
    assert!(
        matches!(error, LookupError::InvalidPostcode(_)),
        "{error:?}"
    );
    assert_eq!(service.requests(), 1, "a malformed postcode is not sent");
}

#[tokio::test]
async fn a_slow_service_times_out_with_a_clear_error_and_is_asked_again_later() {
    let (_, db) = fresh_database().await;
    let service = FakePostcodes::start(&[("GU11 1PZ", ALDERSHOT)]).await;
    service.slow_down(Duration::from_secs(3));
    let lookup = PostcodeLookup::new(db, &service.settings()).unwrap();
    let started = std::time::Instant::now();
    let error = lookup.lookup("GU11 1PZ").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(matches!(error, LookupError::Timeout(500)), "{error:?}");
    assert!(error.is_temporary());
    assert_eq!(
        error.to_string(),
        "the postcode service did not answer within 500 ms"
    );

    service.slow_down(Duration::ZERO);
    assert_eq!(lookup.lookup("GU11 1PZ").await.unwrap().as_str(), ALDERSHOT);
}

#[tokio::test]
async fn a_service_that_is_down_is_a_temporary_error() {
    let (_, db) = fresh_database().await;
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}", unused.local_addr().unwrap());
    drop(unused);
    let lookup = PostcodeLookup::new(
        db,
        &PostcodesSettings {
            base_url,
            timeout_ms: 500,
        },
    )
    .unwrap();
    let error = lookup.lookup("GU11 1PZ").await.unwrap_err();
    assert!(matches!(error, LookupError::Unavailable(_)), "{error:?}");
    assert!(error.is_temporary());
}

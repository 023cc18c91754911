//! The NHS.UK frontend (CSS, JavaScript, icons), embedded at build time (see `build.rs`), and the
//! small module that starts its components. [`crate::routes::assets`] serves them below `/assets/`.
//!
//! Pages link the stylesheet and scripts with `?v=<hash of the content>`, so those are cached for a
//! year as immutable; the images keep their names (the CSS refers to them by path) and are cached for
//! a week.

use std::collections::HashMap;
use std::sync::LazyLock;

mod nhsuk {
    include!(concat!(env!("OUT_DIR"), "/nhsuk_assets.rs"));
}

/// The version of `nhsuk-frontend` the assets come from.
pub const NHSUK_FRONTEND_VERSION: &str = nhsuk::VERSION;

pub const STYLESHEET: &str = "nhsuk-frontend.min.css";
const FRONTEND_SCRIPT: &str = "nhsuk-frontend.min.js";
/// Starts the frontend's components; imports the frontend bundle.
pub const SCRIPT: &str = "valued.js";

const VALUED_JS: &str = include_str!("../assets/valued.js");

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const A_WEEK: &str = "public, max-age=604800";

struct Asset {
    bytes: Vec<u8>,
    content_type: &'static str,
    cache_control: &'static str,
    /// Path and query the pages link to.
    url: String,
}

static ASSETS: LazyLock<HashMap<String, Asset>> = LazyLock::new(|| {
    let mut assets: HashMap<String, Asset> = nhsuk::FILES
        .iter()
        .map(|(name, bytes)| ((*name).to_owned(), asset(name, bytes.to_vec())))
        .collect();
    let frontend = assets
        .get(FRONTEND_SCRIPT)
        .map(|a| a.url.clone())
        .unwrap_or_default();
    let script = VALUED_JS.replace("__NHSUK_FRONTEND_JS__", &frontend);
    assets.insert(SCRIPT.to_owned(), asset(SCRIPT, script.into_bytes()));
    assets
});

fn asset(name: &str, bytes: Vec<u8>) -> Asset {
    let versioned = name.ends_with(".css") || name.ends_with(".js");
    let url = if versioned {
        format!("/assets/{name}?v={:016x}", fnv1a(&bytes))
    } else {
        format!("/assets/{name}")
    };
    Asset {
        content_type: content_type(name),
        cache_control: if versioned { IMMUTABLE } else { A_WEEK },
        bytes,
        url,
    }
}

/// The URL a page links to for the named asset (`/assets/<name>`, with a version query on the
/// stylesheet and scripts).
pub fn url(name: &str) -> String {
    ASSETS
        .get(name)
        .map(|a| a.url.clone())
        .unwrap_or_else(|| format!("/assets/{name}"))
}

/// An embedded file: its bytes and the headers it is served with.
pub struct Served {
    pub bytes: &'static [u8],
    pub content_type: &'static str,
    pub cache_control: &'static str,
}

/// The embedded file served as `/assets/<name>`, if there is one.
pub fn get(name: &str) -> Option<Served> {
    ASSETS.get(name).map(|asset| Served {
        bytes: asset.bytes.as_slice(),
        content_type: asset.content_type,
        cache_control: asset.cache_control,
    })
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") if name.ends_with("manifest.json") => "application/manifest+json",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        _ => "application/octet-stream",
    }
}

/// 64-bit FNV-1a: a content fingerprint for cache busting, not a security measure.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_stylesheet_its_icons_and_the_scripts_are_embedded() {
        assert!(ASSETS[STYLESHEET].bytes.len() > 100_000);
        assert!(ASSETS[FRONTEND_SCRIPT].bytes.len() > 10_000);
        let css = String::from_utf8_lossy(&ASSETS[STYLESHEET].bytes);
        for referenced in css
            .split("url(/assets/")
            .skip(1)
            .filter_map(|rest| rest.split(')').next())
        {
            assert!(
                ASSETS.contains_key(referenced),
                "{referenced} is not served"
            );
        }
        assert!(ASSETS.contains_key("images/favicon.ico"));
        let script = String::from_utf8_lossy(&ASSETS[SCRIPT].bytes);
        assert!(script.contains(&url(FRONTEND_SCRIPT)), "{script}");
        assert!(url(STYLESHEET).starts_with("/assets/nhsuk-frontend.min.css?v="));
    }
}

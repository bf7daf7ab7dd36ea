//! Static files compiled into the binary, served under a content-hashed name
//! (`/assets/portal.3f2a9c1e.css`) with a one-year immutable cache: a new build with new CSS gets
//! a new URL, so browsers never keep a stale stylesheet.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::LazyLock;

struct Asset {
    /// Name with hash, as linked from pages.
    name: String,
    content_type: &'static str,
    body: &'static [u8],
}

fn hashed(stem: &str, ext: &str, content_type: &'static str, body: &'static [u8]) -> Asset {
    // FNV-1a: stable across builds and platforms, plenty for cache busting.
    let mut h: u32 = 0x811c_9dc5;
    for b in body {
        h = (h ^ u32::from(*b)).wrapping_mul(0x0100_0193);
    }
    Asset {
        name: format!("{stem}.{h:08x}.{ext}"),
        content_type,
        body,
    }
}

static ASSETS: LazyLock<[Asset; 3]> = LazyLock::new(|| {
    [
        hashed(
            "portal",
            "css",
            "text/css; charset=utf-8",
            include_bytes!("../assets/portal.css"),
        ),
        hashed(
            "favicon",
            "svg",
            "image/svg+xml",
            include_bytes!("../assets/favicon.svg"),
        ),
        hashed(
            "portal",
            "js",
            "text/javascript; charset=utf-8",
            include_bytes!("../assets/portal.js"),
        ),
    ]
});

/// URL of the stylesheet, for the layout.
pub fn stylesheet_url() -> String {
    format!("/assets/{}", ASSETS[0].name)
}

/// URL of the favicon, for the layout.
pub fn favicon_url() -> String {
    format!("/assets/{}", ASSETS[1].name)
}

/// URL of the page script (idle-logoff warning), for the layout.
pub fn script_url() -> String {
    format!("/assets/{}", ASSETS[2].name)
}

pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == file) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            a.body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

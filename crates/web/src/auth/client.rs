//! The client's address, for rate limits and the audit trail.

use axum::extract::{ConnectInfo, Request};
use std::net::SocketAddr;

/// Behind the TLS proxy the peer is the proxy, so the address comes from the last
/// `X-Forwarded-For` entry (the one our proxy appended; earlier ones are the client's word).
/// Otherwise it is the TCP peer. In-process tests have neither: "local".
pub fn address(req: &Request, behind_proxy: bool) -> String {
    if behind_proxy {
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|s| s.parse::<std::net::IpAddr>().is_ok());
        if let Some(ip) = forwarded {
            return ip.to_string();
        }
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "local".into())
}

//! Who is on the other end of a request: the client's address (from a trusted proxy's header when
//! one is configured) and whether a browser request comes from this server's own origin.

use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{HOST, ORIGIN};
use axum::http::request::Parts;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The client's address. Behind a reverse proxy every request comes from the proxy, so with
/// `--trusted-proxy-header` the address is the last one that header names (the one the proxy saw);
/// without it, the socket's peer. Never trusted from a header the operator did not name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let forwarded = st.config.trusted_proxy_header.as_ref().and_then(|h| {
            parts
                .headers
                .get_all(h)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                .next_back()
        });
        Ok(ClientAddr(forwarded.unwrap_or(peer)))
    }
}

/// Whether a request carries an `Origin` that is this server's: the configured public URL's origin,
/// or else the scheme-less host the request was sent to. Browsers send `Origin` on every POST and
/// WebSocket upgrade, so a cookie-authenticated request without a matching one did not come from
/// our pages.
pub fn same_origin(parts: &Parts, public_url: Option<&url::Url>) -> bool {
    let Some(origin) = parts.headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Ok(origin) = url::Url::parse(origin) else {
        return false;
    };
    match public_url {
        Some(public) => origin.origin() == public.origin(),
        None => {
            let host = parts.headers.get(HOST).and_then(|v| v.to_str().ok());
            let origin_host = match (origin.host_str(), origin.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_string(),
                _ => return false,
            };
            host.is_some_and(|h| h.eq_ignore_ascii_case(&origin_host))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(origin: Option<&str>, host: &str) -> Parts {
        let mut b = Request::builder().uri("/api/logout").header(HOST, host);
        if let Some(o) = origin {
            b = b.header(ORIGIN, o);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn origins() {
        assert!(same_origin(
            &parts(Some("http://127.0.0.1:8080"), "127.0.0.1:8080"),
            None
        ));
        assert!(!same_origin(
            &parts(Some("http://evil.example"), "127.0.0.1:8080"),
            None
        ));
        assert!(!same_origin(&parts(None, "127.0.0.1:8080"), None));
        let public = url::Url::parse("https://danvan.example.vn/").unwrap();
        assert!(same_origin(
            &parts(Some("https://danvan.example.vn"), "10.0.0.5:8080"),
            Some(&public)
        ));
        assert!(!same_origin(
            &parts(Some("http://danvan.example.vn"), "danvan.example.vn"),
            Some(&public)
        ));
    }
}

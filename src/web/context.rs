//! Who is asking: the extractors every handler starts from. [`Visitor`] is any
//! request (its session if the cookie names a live one, its language, whether
//! it came over https, its address); [`SignedIn`] refuses requests without a
//! signed-in session. The CSRF check of posted forms is here too.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum_extra::extract::CookieJar;

use super::AppState;
use super::error::Error;
use super::i18n::{Lang, Texts};
use super::session::{self, Session};

/// Any request.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub session: Option<Session>,
    pub lang: Lang,
    /// The request came over https (`X-Forwarded-Proto: https` from the proxy).
    pub secure: bool,
    /// The client's address, when known.
    pub address: Option<IpAddr>,
}

impl Visitor {
    #[must_use]
    pub const fn texts(&self) -> &'static Texts {
        self.lang.texts()
    }

    /// Read what the request says about its sender (no rejection possible).
    pub fn from_parts(parts: &Parts, state: &AppState) -> Self {
        let jar = CookieJar::from_headers(&parts.headers);
        let session = jar
            .get(session::COOKIE)
            .and_then(|cookie| state.sessions().get(cookie.value(), Instant::now()));
        let lang = session
            .as_ref()
            .and_then(|s| s.lang)
            .unwrap_or_else(|| browser_lang(&parts.headers));
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .or_else(|| {
                parts
                    .extensions
                    .get::<MockConnectInfo<SocketAddr>>()
                    .map(|MockConnectInfo(addr)| addr.ip())
            });
        Self {
            session,
            lang,
            secure: is_https(&parts.headers),
            address: client_address(peer, &parts.headers),
        }
    }
}

/// The browser's language, or the default.
#[must_use]
pub fn browser_lang(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::negotiate)
        .unwrap_or_default()
}

fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// The peer address; behind a reverse proxy on this machine (a loopback peer),
/// the last address of `X-Forwarded-For`, the one the proxy added.
fn client_address(peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
    let peer = peer?;
    if peer.is_loopback() {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        if let Some(forwarded) = forwarded {
            return Some(forwarded);
        }
    }
    Some(peer)
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts, state))
    }
}

/// A request from a signed-in user.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: Session,
    pub user: String,
    pub lang: Lang,
    pub secure: bool,
}

impl SignedIn {
    #[must_use]
    pub const fn texts(&self) -> &'static Texts {
        self.lang.texts()
    }

    /// Refuse a posted form whose CSRF token is not this session's.
    pub fn check_csrf(&self, posted: Option<&str>) -> Result<(), Error> {
        check_csrf(&self.session, posted)
    }
}

/// Refuse a posted form whose CSRF token is not the session's.
pub fn check_csrf(session: &Session, posted: Option<&str>) -> Result<(), Error> {
    match posted {
        Some(token) if session::tokens_match(token, &session.csrf) => Ok(()),
        _ => Err(Error::Csrf),
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let visitor = Visitor::from_parts(parts, state);
        let redirect = parts.method == Method::GET
            && !parts
                .headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/event-stream"));
        let Some(session) = visitor.session else {
            return Err(Error::Unauthenticated { redirect });
        };
        let Some(user) = session.user.clone() else {
            return Err(Error::Unauthenticated { redirect });
        };
        Ok(Self {
            session,
            user,
            lang: visitor.lang,
            secure: visitor.secure,
        })
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn a_proxy_on_this_machine_names_the_client() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 198.51.100.7"),
        );
        let loopback = Some(IpAddr::from([127, 0, 0, 1]));
        assert_eq!(
            client_address(loopback, &headers),
            Some(IpAddr::from([198, 51, 100, 7]))
        );
        let remote = Some(IpAddr::from([192, 0, 2, 1]));
        assert_eq!(
            client_address(remote, &headers),
            remote,
            "spoofable header trusted"
        );
    }

    #[test]
    fn the_browser_language_defaults_to_french() {
        let mut headers = HeaderMap::new();
        assert_eq!(browser_lang(&headers), Lang::Fr);
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("en-GB"));
        assert_eq!(browser_lang(&headers), Lang::En);
    }
}

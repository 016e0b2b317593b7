//! Middleware every response goes through: the security headers (a CSP without
//! inline scripts or styles, no framing, no sniffing, no caching of pages) and
//! the rendering of error pages in the visitor's language.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::CookieJar;

use super::AppState;
use super::context::browser_lang;
use super::error::ErrorPage;
use super::page::{self, Chrome};
use super::session;

/// Everything from this server only; no inline script or style, no plugin, no
/// framing, forms post only here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Add the security headers to every response.
pub async fn headers(request: Request, next: Next) -> Response {
    let https = request
        .headers()
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed: [(HeaderName, &'static str); 6] = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=()",
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

/// Render the page of a refused or failed request, in the visitor's language.
pub async fn error_pages(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let request_headers = lang_headers(request.headers());
    let response = next.run(request).await;
    let marked = response.extensions().get::<ErrorPage>().copied();
    let page = match (marked, response.status()) {
        (Some(page), _) => page,
        (None, StatusCode::NOT_FOUND) => ErrorPage::NotFound,
        (None, StatusCode::METHOD_NOT_ALLOWED | StatusCode::UNSUPPORTED_MEDIA_TYPE) => {
            ErrorPage::Malformed
        }
        (None, StatusCode::PAYLOAD_TOO_LARGE) => ErrorPage::TooLarge,
        (None, _) => return response,
    };
    if response.status().is_redirection() {
        return response;
    }
    let jar = CookieJar::from_headers(&request_headers);
    let session = jar
        .get(session::COOKIE)
        .and_then(|c| state.sessions().get(c.value(), std::time::Instant::now()));
    let lang = session
        .as_ref()
        .and_then(|s| s.lang)
        .unwrap_or_else(|| browser_lang(&request_headers));
    let t = lang.texts();
    let mut chrome = Chrome::new(lang);
    if let Some(session) = &session {
        chrome = match &session.user {
            Some(user) => Chrome::new(lang).user(user, &session.csrf),
            None => chrome.csrf(&session.csrf),
        };
    }
    let (message, back) = match page {
        ErrorPage::NotFound => (t.error_not_found, "/"),
        ErrorPage::Unauthenticated => (t.error_unauthenticated, "/login"),
        ErrorPage::Csrf => (t.error_csrf, "/"),
        ErrorPage::TooLarge => (t.error_too_large, "/"),
        ErrorPage::Malformed => (t.error_malformed, "/"),
        ErrorPage::Internal => (t.error_internal, "/"),
    };
    let status = response.status();
    let (mut parts, _) = response.into_parts();
    let rendered = page::error_page(status, chrome, message, back);
    let (rendered_parts, body) = rendered.into_parts();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    drop(rendered_parts);
    Response::from_parts(parts, body)
}

/// The request headers the language depends on, kept while the request runs.
fn lang_headers(headers: &HeaderMap) -> HeaderMap {
    let mut kept = HeaderMap::new();
    for name in [header::COOKIE, header::ACCEPT_LANGUAGE] {
        for value in headers.get_all(&name) {
            kept.append(name.clone(), value.clone());
        }
    }
    kept
}

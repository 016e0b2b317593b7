//! What every page shares: [`Chrome`] (language, labels, user, CSRF token for
//! the header's forms, active menu item), the HTML response helper, and the
//! error page. Askama templates live in `web-ui/templates/`.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::error::Error;
use super::i18n::{self, Lang, Texts};

/// The frame of every page.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub lang: Lang,
    pub langs: [Lang; 2],
    pub t: &'static Texts,
    /// The signed-in user; `None` on the login and error pages.
    pub user: Option<String>,
    /// The session's CSRF token for the header's forms; empty when there is no
    /// session (the language switch is then not shown).
    pub csrf: String,
    /// The active menu item: `config`, `changes`, `apply` or empty.
    pub nav: &'static str,
    /// This page's path, where the language switch comes back to.
    pub path: String,
}

impl Chrome {
    #[must_use]
    pub fn new(lang: Lang) -> Self {
        Self {
            lang,
            langs: Lang::ALL,
            t: lang.texts(),
            user: None,
            csrf: String::new(),
            nav: "",
            path: "/".to_owned(),
        }
    }

    #[must_use]
    pub fn user(mut self, user: &str, csrf: &str) -> Self {
        self.user = Some(user.to_owned());
        self.csrf = csrf.to_owned();
        self
    }

    #[must_use]
    pub fn csrf(mut self, csrf: &str) -> Self {
        self.csrf = csrf.to_owned();
        self
    }

    #[must_use]
    pub const fn nav(mut self, nav: &'static str) -> Self {
        self.nav = nav;
        self
    }

    #[must_use]
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// "Signed in as …" in the page's language.
    #[must_use]
    pub fn signed_in_as(&self) -> String {
        i18n::fill(
            self.t.signed_in_as,
            &[self.user.as_deref().unwrap_or_default()],
        )
    }
}

/// Render a template as an HTML response with this status.
pub fn render(status: StatusCode, template: &impl Template) -> Result<Response, Error> {
    let body = template.render()?;
    let mut response = (status, Html(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Ok(response)
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate<'a> {
    c: Chrome,
    message: &'a str,
    back: &'a str,
}

/// The page shown for a refused or failed request.
#[must_use]
pub fn error_page(status: StatusCode, chrome: Chrome, message: &str, back: &str) -> Response {
    let template = ErrorTemplate {
        c: chrome,
        message,
        back,
    };
    match template.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(error) => {
            tracing::error!("cannot render the error page: {error}");
            (status, message.to_owned()).into_response()
        }
    }
}

/// A local path to go back to after a form (`next`): only paths of this site,
/// never `//host` or `https://…`, so a link cannot send the user elsewhere.
#[must_use]
pub fn local_path(next: Option<&str>, fallback: &'static str) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => fallback.to_owned(),
    }
}

/// Percent-encode a query value (everything but RFC 3986 unreserved characters).
#[must_use]
pub fn query_escape(text: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            query_escape("/config?tab=a b&x=é"),
            "%2Fconfig%3Ftab%3Da%20b%26x%3D%C3%A9"
        );
    }

    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path(Some("/config?tab=a"), "/"), "/config?tab=a");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "config",
            "/\\evil",
            "/a\nb",
        ] {
            assert_eq!(local_path(Some(bad), "/config"), "/config", "{bad:?}");
        }
        assert_eq!(local_path(None, "/config"), "/config");
    }
}

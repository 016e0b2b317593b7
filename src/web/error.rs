//! [`Error`]: every way a request can be refused or fail, and its status code.
//! `into_response` only marks the response; the `error_pages` middleware (which
//! knows the visitor's language) renders the page. Internal errors are logged
//! here with their detail and reach the browser as a generic page.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Why a request was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    /// Not signed in: GET requests are sent to the login page, others refused.
    #[error("not signed in")]
    Unauthenticated { redirect: bool },
    /// The CSRF token is missing or is not the session's.
    #[error("missing or wrong csrf token")]
    Csrf,
    /// The body is larger than the limit.
    #[error("request body too large")]
    TooLarge,
    /// The body or query cannot be read (wrong encoding, wrong content type, bad field).
    #[error("malformed request: {0}")]
    Malformed(String),
    /// Anything else: logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// What the `error_pages` middleware renders, put in the response's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorPage {
    NotFound,
    Unauthenticated,
    Csrf,
    TooLarge,
    Malformed,
    Internal,
}

impl Error {
    #[must_use]
    pub const fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Unauthenticated { redirect: true } => StatusCode::SEE_OTHER,
            Self::Unauthenticated { redirect: false } => StatusCode::UNAUTHORIZED,
            Self::Csrf => StatusCode::FORBIDDEN,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn page(&self) -> ErrorPage {
        match self {
            Self::NotFound => ErrorPage::NotFound,
            Self::Unauthenticated { .. } => ErrorPage::Unauthenticated,
            Self::Csrf => ErrorPage::Csrf,
            Self::TooLarge => ErrorPage::TooLarge,
            Self::Malformed(_) => ErrorPage::Malformed,
            Self::Internal(_) => ErrorPage::Internal,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(error) => tracing::error!("internal error: {error:#}"),
            Self::Malformed(detail) => tracing::info!("refused malformed request: {detail}"),
            Self::Csrf => tracing::warn!("refused a request with a missing or wrong csrf token"),
            Self::TooLarge => tracing::warn!("refused an oversized request"),
            Self::NotFound | Self::Unauthenticated { .. } => {}
        }
        let mut response = self.status().into_response();
        if matches!(self, Self::Unauthenticated { redirect: true }) {
            response
                .headers_mut()
                .insert(header::LOCATION, header::HeaderValue::from_static("/login"));
        }
        response.extensions_mut().insert(self.page());
        response
    }
}

/// Map a body extractor's rejection: too large → 413, anything else → 400.
impl From<axum::extract::rejection::FormRejection> for Error {
    fn from(rejection: axum::extract::rejection::FormRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::TooLarge
        } else {
            Self::Malformed(rejection.body_text())
        }
    }
}

impl From<axum::extract::rejection::QueryRejection> for Error {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        Self::Malformed(rejection.body_text())
    }
}

impl From<askama::Error> for Error {
    fn from(error: askama::Error) -> Self {
        Self::Internal(anyhow::Error::new(error).context("cannot render the page"))
    }
}

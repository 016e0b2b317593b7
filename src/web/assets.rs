//! The stylesheet, script and icon, embedded in the binary (the server has no
//! internet and the page loads nothing from elsewhere).

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::error::Error;

const ASSETS: [(&str, &str, &[u8]); 3] = [
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../web-ui/static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web-ui/static/app.js"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_bytes!("../../web-ui/static/icon.svg"),
    ),
];

/// `GET /static/{name}`.
pub(super) async fn asset(Path(name): Path<String>) -> Result<Response, Error> {
    let (_, content_type, bytes) = ASSETS
        .iter()
        .find(|(file, _, _)| *file == name)
        .ok_or(Error::NotFound)?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(response)
}

//! Shared by the web tests: an application on a temporary server layout, driven
//! in-process with `oneshot` (no port), with helpers to sign in and post forms.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use brise::app::{Origin, Settings};
use brise::web::apply::{Applier, LogSink};
use brise::web::{self, AppState, WebConfig, users};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

pub const USER: &str = "admin";
pub const PASSWORD: &str = "correct horse battery staple";

/// An applier that writes a plan and a log, and fails when asked to.
#[derive(Debug, Default)]
pub struct ScriptedApplier {
    pub fail: bool,
    /// Held by the test to keep a run going.
    pub gate: tokio::sync::Mutex<()>,
}

#[async_trait::async_trait]
impl Applier for ScriptedApplier {
    async fn apply(&self, log: LogSink) -> anyhow::Result<()> {
        log.plan("create `web`: not found");
        let _held = self.gate.lock().await;
        log.log("pulling `localhost:5000/web:1`");
        log.log("created `web`");
        if self.fail {
            anyhow::bail!("`web`: start failed");
        }
        Ok(())
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// The session cookie this response sets, if any.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("brise_session="))
            .map(str::to_owned)
    }

    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    /// The CSRF token of the page's forms.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no csrf field in:\n{}", self.body))
            + marker.len();
        self.body[start..start + 64].to_owned()
    }

    #[track_caller]
    pub fn assert_status(&self, status: StatusCode) -> &Self {
        assert_eq!(self.status, status, "body:\n{}", self.body);
        self
    }

    #[track_caller]
    pub fn assert_contains(&self, text: &str) -> &Self {
        assert!(self.body.contains(text), "`{text}` not in:\n{}", self.body);
        self
    }

    #[track_caller]
    pub fn assert_lacks(&self, text: &str) -> &Self {
        assert!(!self.body.contains(text), "`{text}` in:\n{}", self.body);
        self
    }
}

/// The value part of a `Set-Cookie` header (`brise_session=…`).
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_owned()
}

pub struct TestApp {
    pub dir: tempfile::TempDir,
    pub state: AppState,
    pub applier: Arc<ScriptedApplier>,
}

impl TestApp {
    pub fn new() -> Self {
        Self::with(|_| {})
    }

    pub fn with(adjust: impl FnOnce(&mut WebConfig)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let users_file = dir.path().join("web-users");
        let mut list = users::Users::default();
        list.set(
            USER,
            users::hash_password_cheaply_for_tests(PASSWORD).expect("hash"),
        )
        .expect("user");
        users::save(&users_file, &list).expect("users file");
        let settings = settings(dir.path());
        let mut config = WebConfig::new(settings, users_file);
        adjust(&mut config);
        let applier = Arc::new(ScriptedApplier::default());
        let state = AppState::new(config, applier.clone());
        Self {
            dir,
            state,
            applier,
        }
    }

    pub fn router(&self) -> Router {
        web::router(self.state.clone())
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut request = Request::get(path).header(header::ACCEPT_LANGUAGE, "en");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).expect("request"))
            .await
    }

    pub async fn post(&self, path: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> Reply {
        let body = encode(fields);
        let mut request = Request::post(path)
            .header(header::ACCEPT_LANGUAGE, "en")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::from(body)).expect("request"))
            .await
    }

    /// An anonymous session: its cookie pair and the login form's token.
    pub async fn anonymous(&self) -> (String, String) {
        let page = self.get("/login", None).await;
        page.assert_status(StatusCode::OK);
        let cookie = cookie_pair(&page.session_cookie().expect("session cookie"));
        (cookie, page.csrf())
    }

    /// Sign in: the signed-in cookie pair.
    pub async fn sign_in(&self) -> String {
        let (cookie, csrf) = self.anonymous().await;
        let reply = self
            .post(
                "/login",
                Some(&cookie),
                &[("csrf", &csrf), ("user", USER), ("password", PASSWORD)],
            )
            .await;
        reply.assert_status(StatusCode::SEE_OTHER);
        cookie_pair(&reply.session_cookie().expect("new session cookie"))
    }

    /// The CSRF token of a signed-in session (read from a page).
    pub async fn csrf(&self, cookie: &str) -> String {
        self.get("/apply", Some(cookie)).await.csrf()
    }
}

pub fn encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                brise::web::page::query_escape(k),
                brise::web::page::query_escape(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Settings pointing every path into `root`.
pub fn settings(root: &Path) -> Settings {
    let path = |p: &str| -> PathBuf { root.join(p) };
    Settings {
        dictionaries: vec![path("dictionaries")],
        dictionaries_origin: Origin::Explicit,
        extra_namespaces: Vec::new(),
        namespace: None,
        templates: vec![path("templates")],
        templates_origin: Origin::Explicit,
        values: path("values.yml"),
        state_dir: path("state"),
        hooks_dir: path("hooks"),
        no_wait: true,
    }
}

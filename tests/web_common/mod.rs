//! Shared by the web tests: an application on a temporary server layout, driven
//! in-process with `oneshot` (no port), with helpers to sign in and post forms.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    // Test fixtures are written directly: the atomic writer is not under test here.
    clippy::disallowed_methods
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

    /// An application over the shipped dictionaries and this values file.
    pub fn shipped(values: &str) -> Self {
        let app = Self::with(|config| {
            config.settings.dictionaries = vec![shipped_dictionaries()];
        });
        app.write_values(values);
        app
    }

    pub fn values_path(&self) -> PathBuf {
        self.dir.path().join("values.yml")
    }

    pub fn write_values(&self, text: &str) {
        std::fs::write(self.values_path(), text).expect("values file");
    }

    pub fn values(&self) -> String {
        std::fs::read_to_string(self.values_path()).unwrap_or_default()
    }

    /// The values file without quotes (the writer quotes strings).
    pub fn values_unquoted(&self) -> String {
        self.values().replace('"', "")
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

    /// Post the config form as shown in `page`, with these fields changed and
    /// this action.
    pub async fn post_form(
        &self,
        cookie: &str,
        page: &Reply,
        changes: &[(&str, &str)],
        action: &str,
    ) -> Reply {
        let mut fields = form_fields(&page.body, "config-form");
        for (name, value) in changes {
            set_field(&mut fields, name, value);
        }
        set_field(&mut fields, "action", action);
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.post("/config", Some(cookie), &pairs).await
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

/// The dictionaries shipped with brise.
pub fn shipped_dictionaries() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("dictionaries")
}

/// The demo values (two containers).
pub fn demo_values() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo/values.yml"))
        .expect("demo values")
}

/// The `value` attribute of the input named `name` in a page.
pub fn input_value(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\"");
    let at = page.find(&marker)?;
    let tag_start = page[..at].rfind('<')?;
    let tag_end = at + page[at..].find('>')?;
    let tag = &page[tag_start..tag_end];
    let value_at = tag.find("value=\"")? + 7;
    let value_end = value_at + tag[value_at..].find('"')?;
    Some(tag[value_at..value_end].to_owned())
}

fn unescape(text: &str) -> String {
    text.replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#38;", "&")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let re = regex::Regex::new(&format!(r#"\s{name}="([^"]*)""#)).unwrap();
    re.captures(tag).map(|c| unescape(&c[1]))
}

/// What a browser would post for the form `id` of a page (without a button):
/// every named input and textarea with its value, every named select with its
/// selected option.
pub fn form_fields(page: &str, id: &str) -> Vec<(String, String)> {
    let start = page.find(&format!("id=\"{id}\"")).expect("form");
    let end = start + page[start..].find("</form>").expect("form end");
    let form = &page[start..end];
    let mut fields = Vec::new();
    let tag = regex::Regex::new(r"(?s)<(input|select)\b[^>]*>").unwrap();
    let option = regex::Regex::new(r"<option\b[^>]*>").unwrap();
    for m in tag.find_iter(form) {
        let text = m.as_str();
        let Some(name) = attribute(text, "name") else {
            continue;
        };
        if text.starts_with("<input") {
            let kind = attribute(text, "type").unwrap_or_else(|| "text".to_owned());
            if kind == "submit" || kind == "button" {
                continue;
            }
            if (kind == "radio" || kind == "checkbox") && !text.contains(" checked") {
                continue;
            }
            fields.push((name, attribute(text, "value").unwrap_or_default()));
        } else {
            let close = m.end() + form[m.end()..].find("</select>").expect("select end");
            let options = &form[m.end()..close];
            let mut chosen = None;
            for o in option.find_iter(options) {
                let value = attribute(o.as_str(), "value").unwrap_or_default();
                if chosen.is_none() || o.as_str().contains(" selected") {
                    if o.as_str().contains(" selected") {
                        chosen = Some(value);
                        break;
                    }
                    chosen.get_or_insert(value);
                }
            }
            fields.push((name, chosen.unwrap_or_default()));
        }
    }
    fields
}

/// Replace (or add) a field's value.
pub fn set_field(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    match fields.iter_mut().find(|(n, _)| n == name) {
        Some(field) => field.1 = value.to_owned(),
        None => fields.push((name.to_owned(), value.to_owned())),
    }
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

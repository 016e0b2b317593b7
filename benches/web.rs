//! Server time of the configuration form for a dictionary of 1,000 variables
//! (50 families of 20: strings, integers, booleans, choices, ports, IP
//! addresses, lists, a leadership of 3 rows per family), every field shown
//! (advanced mode), through the whole router in-process (`oneshot`): session,
//! CSRF, loading (dictionaries cached, values read), resolution by the core,
//! the form built and rendered. The parts are measured alone too.
//!
//! Run: `cargo bench --bench web` (results in docs/PERFORMANCE.md).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)] // bench code

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use askama::Template as _;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use brise::app::{Origin, Settings};
use brise::dictionary::Mode;
use brise::web::apply::{Applier, LogSink};
use brise::web::form::build::{self, Input};
use brise::web::form::translations::Translations;
use brise::web::i18n::Lang;
use brise::web::{self, AppState, WebConfig, users};
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

const FAMILIES: usize = 50;
const PER_FAMILY: usize = 20;

/// 50 families × 20 variables = 1,000 variables (the leadership's 3 count as 3).
fn dictionary() -> String {
    let mut text = String::from("version: 1.1\n");
    for f in 0..FAMILIES {
        writeln!(text, "family{f}:\n  description: Family {f}").unwrap();
        for v in 0..PER_FAMILY - 3 {
            let name = format!("var{v}");
            let body = match v % 7 {
                0 => format!("    description: Name {v}\n    default: value{v}\n"),
                1 => format!("    description: Count {v}\n    type: integer\n    default: {v}\n"),
                2 => {
                    format!("    description: Enabled {v}\n    type: boolean\n    default: true\n")
                }
                3 => format!(
                    "    description: Choice {v}\n    type: choice\n    choices: [a, b, c]\n    default: b\n"
                ),
                4 => format!(
                    "    description: Port {v}\n    type: port\n    default: {}\n",
                    8000 + v
                ),
                5 => format!(
                    "    description: Address {v}\n    type: ip\n    default: 192.0.2.{v}\n"
                ),
                _ => format!(
                    "    description: List {v}\n    multi: true\n    default: [one, two]\n    mandatory: false\n"
                ),
            };
            write!(text, "  {name}:\n{body}    help: Help text of variable {v} of family {f}\n    mode: basic\n")
                .unwrap();
        }
        writeln!(
            text,
            "  ports:\n    description: Ports\n    type: leadership\n    container_port:\n      description: Container port\n      type: port\n      mode: basic\n    host_port:\n      description: Host port\n      type: port\n      mode: basic\n    protocol:\n      description: Protocol\n      type: choice\n      choices: [tcp, udp]\n      default: tcp\n      mode: basic"
        )
        .unwrap();
    }
    text
}

/// Some values set: a name per family and the 3 rows of each leadership.
fn values() -> String {
    let mut text = String::new();
    for f in 0..FAMILIES {
        writeln!(text, "family{f}:\n  var0: \"set {f}\"\n  ports:").unwrap();
        for row in 0..3 {
            writeln!(
                text,
                "    - container_port: {}\n      host_port: {}",
                80 + row,
                20_000 + f * 10 + row
            )
            .unwrap();
        }
    }
    text
}

#[derive(Debug)]
struct NoApply;

#[async_trait::async_trait]
impl Applier for NoApply {
    async fn apply(&self, _log: LogSink) -> anyhow::Result<()> {
        Ok(())
    }
}

struct Bench {
    _dir: tempfile::TempDir,
    settings: Settings,
    router: Router,
    cookie: String,
    csrf: String,
    page: String,
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Vec<String>, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let cookies = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, cookies, String::from_utf8_lossy(&body).into_owned())
}

fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").unwrap() + 19;
    page[at..at + 64].to_owned()
}

fn form(fields: &[(&str, &str)]) -> Body {
    let text: Vec<String> = fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                web::page::query_escape(k),
                web::page::query_escape(v)
            )
        })
        .collect();
    Body::from(text.join("&"))
}

fn post(path: &str, cookie: &str, fields: &[(&str, &str)]) -> Request<Body> {
    Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(fields))
        .unwrap()
}

fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .header(header::ACCEPT_LANGUAGE, "en")
        .body(Body::empty())
        .unwrap()
}

async fn setup() -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let dictionaries = dir.path().join("dictionaries");
    std::fs::create_dir_all(&dictionaries).unwrap();
    std::fs::write(dictionaries.join("00-bench.yml"), dictionary()).unwrap();
    std::fs::write(dir.path().join("values.yml"), values()).unwrap();
    let users_file = dir.path().join("web-users");
    let mut list = users::Users::default();
    list.set(
        "admin",
        users::hash_password_cheaply_for_tests("pw").unwrap(),
    )
    .unwrap();
    users::save(&users_file, &list).unwrap();
    let settings = Settings {
        dictionaries: vec![dictionaries],
        dictionaries_origin: Origin::Explicit,
        extra_namespaces: Vec::new(),
        namespace: None,
        templates: Vec::new(),
        templates_origin: Origin::Explicit,
        values: dir.path().join("values.yml"),
        state_dir: dir.path().join("state"),
        hooks_dir: dir.path().join("hooks"),
        no_wait: true,
    };
    let state = AppState::new(
        WebConfig::new(settings.clone(), users_file),
        Arc::new(NoApply),
    );
    let router = web::router(state);
    let (_, cookies, login) = send(&router, get("/login", "")).await;
    let anonymous = cookies[0].clone();
    let (status, cookies, _) = send(
        &router,
        post(
            "/login",
            &anonymous,
            &[
                ("csrf", &csrf_of(&login)),
                ("user", "admin"),
                ("password", "pw"),
            ],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cookie = cookies[0].clone();
    let (_, _, page) = send(&router, get("/config", &cookie)).await;
    let csrf = csrf_of(&page);
    // Every field shown: advanced mode for the session.
    let (status, _, page) = send(
        &router,
        post(
            "/config",
            &cookie,
            &[("csrf", &csrf), ("mode", "advanced"), ("action", "refresh")],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, page_get) = send(&router, get("/config", &cookie)).await;
    assert_eq!(status, StatusCode::OK);
    let fields = page_get.matches("name=\"v:").count();
    assert!(fields >= 1_000, "only {fields} inputs");
    let _ = page;
    Bench {
        _dir: dir,
        settings,
        router,
        cookie,
        csrf,
        page: page_get,
    }
}

/// The posted pairs of the page's form (inputs and selected options).
fn posted_fields(page: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    let mut rest = page;
    while let Some(at) = rest.find("name=\"v:") {
        let name_start = at + 6;
        let name_end = name_start + rest[name_start..].find('"').unwrap();
        let name = rest[name_start..name_end].to_owned();
        let tag_end = name_end + rest[name_end..].find('>').unwrap();
        let tag = &rest[..tag_end];
        let tag_start = tag.rfind('<').unwrap();
        let value = if tag[tag_start..].starts_with("<select") {
            let close = tag_end + rest[tag_end..].find("</select>").unwrap();
            let options = &rest[tag_end..close];
            options
                .find(" selected>")
                .map(|s| {
                    let v = options[..s].rfind("value=\"").unwrap() + 7;
                    options[v..v + options[v..].find('"').unwrap()].to_owned()
                })
                .unwrap_or_default()
        } else {
            let tag = &rest[tag_start..tag_end];
            tag.find("value=\"")
                .map(|v| tag[v + 7..v + 7 + tag[v + 7..].find('"').unwrap()].to_owned())
                .unwrap_or_default()
        };
        fields.push((name, value));
        rest = &rest[tag_end..];
    }
    fields
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let bench = runtime.block_on(setup());
    let version = {
        let at = bench.page.find("name=\"version\" value=\"").unwrap() + 22;
        bench.page[at..at + 32].to_owned()
    };
    let mut fields = posted_fields(&bench.page);
    fields.push(("csrf".into(), bench.csrf.clone()));
    fields.push(("version".into(), version));
    fields.push(("action".into(), "refresh".into()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();

    let mut group = c.benchmark_group("web_1000_variables");
    group.sample_size(30);
    group.bench_function("get_config_page", |b| {
        b.iter(|| {
            let (status, _, body) =
                runtime.block_on(send(&bench.router, get("/config", &bench.cookie)));
            assert_eq!(status, StatusCode::OK);
            body.len()
        });
    });
    group.bench_function("post_config_refresh_all_fields", |b| {
        b.iter(|| {
            let (status, _, body) =
                runtime.block_on(send(&bench.router, post("/config", &bench.cookie, &pairs)));
            assert_eq!(status, StatusCode::OK, "{}", &body[..body.len().min(2000)]);
            body.len()
        });
    });
    group.bench_function("get_login_page", |b| {
        b.iter(|| {
            runtime
                .block_on(send(&bench.router, get("/login", "")))
                .2
                .len()
        });
    });

    // The parts, alone.
    let schema =
        brise::dictionary::load_dirs(&bench.settings.dictionaries, Origin::Explicit, None, &[])
            .unwrap();
    let raw = brise::values::RawValues::load_file(&bench.settings.values).unwrap();
    group.bench_function("part_load_dictionaries", |b| {
        b.iter(|| {
            brise::dictionary::load_dirs(&bench.settings.dictionaries, Origin::Explicit, None, &[])
                .unwrap()
        });
    });
    group.bench_function("part_resolve", |b| {
        b.iter(|| brise::values::resolve(&schema, &raw));
    });
    let config = brise::values::resolve(&schema, &raw);
    let translations = Translations::default();
    let overlay = BTreeMap::new();
    let input = Input {
        config: &config,
        mode: Mode::Advanced,
        t: Lang::En.texts(),
        translations: &translations,
        overlay: &overlay,
        issues: &[],
    };
    group.bench_function("part_build_form", |b| b.iter(|| build::build(&input)));
    let view = build::build(&input);
    group.bench_function("part_render_html", |b| {
        b.iter(|| {
            web::form::ConfigPage {
                c: web::page::Chrome::new(Lang::En)
                    .user("admin", "t")
                    .nav("config"),
                version: String::new(),
                active_tab: String::new(),
                modes: Vec::new(),
                mode: "advanced".to_owned(),
                stale: None,
                form: view.clone(),
                summary_intro: String::new(),
                notice: None,
                busy: None,
                dirty: false,
            }
            .render()
            .unwrap()
            .len()
        });
    });
    group.finish();
    let _ = Path::new(".");
}

criterion_group!(web_benches, benches);
criterion_main!(web_benches);

//! Web security (issue 9, item 7), against the real router (`oneshot`) and a
//! real `brise serve` on a random 127.0.0.1 port: every route but the login
//! page and the static files refuses an anonymous visitor (the route table is
//! read from `src/web/mod.rs`, so a new route must be classified here); every
//! POST refuses a missing or foreign CSRF token and changes nothing; signing in
//! replaces the session (no fixation); failed logins are rate-limited, even for
//! the right password afterwards; every response carries the security headers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod web_common;

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use web_common::{PASSWORD, Reply, TestApp, USER, cookie_pair, demo_values};

/// Routes reachable without signing in.
const PUBLIC: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/lang"),
    ("GET", "/static/{name}"),
];

/// Routes that need a signed-in session.
const PROTECTED: &[(&str, &str)] = &[
    ("GET", "/config"),
    ("POST", "/config"),
    ("GET", "/changes"),
    ("GET", "/apply"),
    ("POST", "/apply"),
    ("GET", "/apply/events"),
    ("POST", "/logout"),
];

/// The routes declared in `src/web/mod.rs`: (method, path) of every
/// `.route("PATH", get(…).post(…))`.
fn declared_routes() -> Vec<(String, String)> {
    let source = include_str!("../src/web/mod.rs");
    let route = regex::Regex::new(r#"\.route\(\s*"([^"]+)",\s*([^\n]+)"#).unwrap();
    let method = regex::Regex::new(r"\b(get|post|put|delete|patch|any)\(").unwrap();
    let mut routes = Vec::new();
    for captures in route.captures_iter(source) {
        for m in method.captures_iter(&captures[2]) {
            routes.push((m[1].to_uppercase(), captures[1].to_owned()));
        }
    }
    routes
}

#[test]
fn every_route_of_the_router_is_classified_public_or_protected() {
    let declared = declared_routes();
    assert!(declared.len() >= 10, "routes not found: {declared:?}");
    for (method, path) in &declared {
        let known = PUBLIC
            .iter()
            .chain(PROTECTED)
            .any(|(m, p)| m == method && p == path);
        assert!(
            known,
            "route {method} {path} is in src/web/mod.rs but not in this test's tables"
        );
    }
    for (method, path) in PUBLIC.iter().chain(PROTECTED) {
        assert!(
            declared.iter().any(|(m, p)| m == method && p == path),
            "{method} {path} is in this test's tables but not in the router"
        );
    }
}

fn concrete(path: &str) -> String {
    path.replace("{name}", "app.css")
}

async fn request(app: &TestApp, method: &str, path: &str, cookie: Option<&str>) -> Reply {
    match method {
        "GET" => app.get(&concrete(path), cookie).await,
        "POST" => {
            app.post(
                &concrete(path),
                cookie,
                &[("csrf", "x"), ("action", "save")],
            )
            .await
        }
        other => panic!("method {other}"),
    }
}

#[tokio::test]
async fn every_protected_route_refuses_an_anonymous_visitor_and_changes_nothing() {
    let app = TestApp::shipped(&demo_values());
    let before = app.values();
    let (anonymous, _) = app.anonymous().await;
    let forged = "brise_session=0000000000000000000000000000000000000000000000000000000000000000";
    for (method, path) in PROTECTED {
        for cookie in [None, Some(anonymous.as_str()), Some(forged)] {
            let reply = request(&app, method, path, cookie).await;
            let refused = match reply.status {
                StatusCode::SEE_OTHER => reply.location().is_some_and(|l| l.starts_with("/login")),
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => true,
                _ => false,
            };
            assert!(
                refused,
                "{method} {path} with cookie {cookie:?} answered {}:\n{}",
                reply.status, reply.body
            );
            assert!(
                !reply.body.contains("my-apache-app"),
                "{method} {path} showed the configuration to an anonymous visitor"
            );
        }
    }
    assert_eq!(
        app.values(),
        before,
        "an anonymous request changed the values"
    );
    assert!(
        app.state.applies().latest().is_none(),
        "an anonymous request started an apply"
    );
    // The same routes answer a signed-in user (the refusals above are real).
    let cookie = app.sign_in().await;
    let reply = app.get("/config", Some(&cookie)).await;
    reply
        .assert_status(StatusCode::OK)
        .assert_contains("my-apache-app");
}

#[tokio::test]
async fn every_post_refuses_a_missing_or_foreign_csrf_token_and_changes_nothing() {
    let app = TestApp::shipped(&demo_values());
    let before = app.values();
    let cookie = app.sign_in().await;
    let good = app.csrf(&cookie).await;
    // Another user's session: a valid token, but not this session's.
    let other = app.sign_in().await;
    let foreign = app.csrf(&other).await;
    assert_ne!(good, foreign);
    let posts: &[(&str, Vec<(&str, &str)>)] = &[
        (
            "/config",
            vec![
                ("action", "save"),
                ("v:containers.container_my_apache_app.repository", "evil"),
            ],
        ),
        ("/apply", vec![]),
        ("/logout", vec![]),
        ("/lang", vec![("lang", "fr")]),
    ];
    for (path, fields) in posts {
        for token in [
            None,
            Some(String::new()),
            Some("0".repeat(64)),
            Some(foreign.clone()),
        ] {
            let mut all: Vec<(&str, &str)> = fields.clone();
            if let Some(token) = &token {
                all.push(("csrf", token));
            }
            let reply = app.post(path, Some(&cookie), &all).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "POST {path} with token {token:?}: {}",
                reply.body
            );
        }
    }
    assert_eq!(app.values(), before, "a forged post changed the values");
    assert!(
        app.state.applies().latest().is_none(),
        "a forged post started an apply"
    );
    // Still signed in (the forged logout did nothing), in English.
    app.get("/config", Some(&cookie))
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("Sign out");
    // The login form is protected too (login CSRF).
    let (anonymous, _) = app.anonymous().await;
    let reply = app
        .post(
            "/login",
            Some(&anonymous),
            &[("csrf", &foreign), ("user", USER), ("password", PASSWORD)],
        )
        .await;
    reply.assert_status(StatusCode::FORBIDDEN);
    assert!(reply.session_cookie().is_none());
}

#[tokio::test]
async fn signing_in_replaces_the_session_so_a_planted_one_is_useless() {
    let app = TestApp::shipped(&demo_values());
    // The session an attacker could plant before the victim signs in.
    let (planted, csrf) = app.anonymous().await;
    let reply = app
        .post(
            "/login",
            Some(&planted),
            &[("csrf", &csrf), ("user", USER), ("password", PASSWORD)],
        )
        .await;
    reply.assert_status(StatusCode::SEE_OTHER);
    let signed_in = cookie_pair(&reply.session_cookie().expect("a new session cookie"));
    assert_ne!(signed_in, planted, "the session id did not change at login");
    // The planted id is not signed in; the new one is.
    let reply = app.get("/config", Some(&planted)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    app.get("/config", Some(&signed_in))
        .await
        .assert_status(StatusCode::OK);
    // A session id the server never issued is never adopted.
    let invented = "brise_session=attacker-chosen-session-id";
    let reply = app
        .post(
            "/login",
            Some(invented),
            &[("csrf", &csrf), ("user", USER), ("password", PASSWORD)],
        )
        .await;
    assert_ne!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    if let Some(cookie) = reply.session_cookie() {
        assert_ne!(cookie_pair(&cookie), invented);
    }
    // The cookie cannot be read by scripts nor sent by other sites.
    let (_, _) = app.anonymous().await;
    let page = app.get("/login", None).await;
    let cookie = page.session_cookie().unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
}

#[tokio::test]
async fn failed_logins_are_rate_limited_even_for_the_right_password() {
    let app = TestApp::shipped(&demo_values());
    let (cookie, csrf) = app.anonymous().await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let reply = app
            .post(
                "/login",
                Some(&cookie),
                &[("csrf", &csrf), ("user", USER), ("password", "wrong")],
            )
            .await;
        statuses.push(reply.status);
    }
    assert!(
        statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    let reply = app
        .post(
            "/login",
            Some(&cookie),
            &[("csrf", &csrf), ("user", USER), ("password", PASSWORD)],
        )
        .await;
    reply.assert_status(StatusCode::TOO_MANY_REQUESTS);
    assert!(reply.headers.contains_key(header::RETRY_AFTER));
    assert!(
        reply.session_cookie().is_none(),
        "signed in while rate-limited"
    );
    let page = app.get("/config", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
}

#[track_caller]
fn assert_security_headers(what: &str, headers: &axum::http::HeaderMap, page: bool) {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: no `{name}` header"))
            .to_owned()
    };
    let csp = get("content-security-policy");
    for directive in [
        "default-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "form-action 'self'",
    ] {
        assert!(
            csp.contains(directive),
            "{what}: CSP `{csp}` lacks {directive}"
        );
    }
    assert!(
        !csp.contains("unsafe-inline"),
        "{what}: CSP allows inline code"
    );
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    let referrer = get("referrer-policy");
    assert!(
        ["same-origin", "no-referrer", "strict-origin"].contains(&referrer.as_str()),
        "{what}: referrer policy `{referrer}`"
    );
    if page {
        assert!(get("cache-control").contains("no-store"), "{what}");
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::shipped(&demo_values());
    let cookie = app.sign_in().await;
    let csrf = app.csrf(&cookie).await;
    let mut replies = vec![
        ("login page", app.get("/login", None).await, true),
        ("redirect", app.get("/", None).await, true),
        ("refused", app.get("/config", None).await, true),
        ("not found", app.get("/nothing-here", None).await, true),
        ("config page", app.get("/config", Some(&cookie)).await, true),
        (
            "changes page",
            app.get("/changes", Some(&cookie)).await,
            true,
        ),
        ("apply page", app.get("/apply", Some(&cookie)).await, true),
        ("static file", app.get("/static/app.css", None).await, false),
        (
            "csrf refusal",
            app.post("/config", Some(&cookie), &[("csrf", "no")]).await,
            true,
        ),
        (
            "malformed form",
            app.post("/config", Some(&cookie), &[("csrf", &csrf), ("bogus", "1")])
                .await,
            true,
        ),
    ];
    let huge = "x".repeat(3 * 1024 * 1024);
    let request = Request::post("/config")
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={csrf}&v:x={huge}")))
        .unwrap();
    replies.push(("too large", app.send(request).await, true));
    for (what, reply, page) in &replies {
        assert_security_headers(what, &reply.headers, *page);
    }
    assert_eq!(
        replies.last().unwrap().1.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

// ---- a real `brise serve` on 127.0.0.1

struct Served {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve() -> Served {
    let dir = tempfile::Builder::new()
        .prefix("brise-relsec-web-")
        .tempdir()
        .unwrap();
    let users_file = dir.path().join("web-users");
    let mut users = brise::web::users::Users::default();
    users
        .set(
            USER,
            brise::web::users::hash_password_cheaply_for_tests(PASSWORD).unwrap(),
        )
        .unwrap();
    brise::web::users::save(&users_file, &users).unwrap();
    std::fs::write(dir.path().join("values.yml"), demo_values()).unwrap();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_brise"))
        .arg("--dictionaries")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/dictionaries"))
        .arg("--templates")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/templates"))
        .arg("--values")
        .arg(dir.path().join("values.yml"))
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .arg("serve")
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--users-file")
        .arg(&users_file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let served = Served {
        child,
        port,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "brise serve did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    served
}

/// One HTTP/1.1 request over a real socket: status line and headers, body.
fn http(port: u16, raw: &str) -> (u16, axum::http::HeaderMap, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(raw.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text}"));
    let mut headers = axum::http::HeaderMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            headers.append(
                axum::http::HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
                value.trim().parse().unwrap(),
            );
        }
    }
    (status, headers, body.to_owned())
}

#[test]
fn a_real_server_refuses_anonymous_visitors_with_the_security_headers() {
    let served = serve();
    for (method, path) in PROTECTED {
        let raw = match *method {
            "GET" => format!(
                "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                concrete(path)
            ),
            _ => {
                let body = "csrf=x&action=save";
                format!(
                    "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                    concrete(path),
                    body.len()
                )
            }
        };
        let (status, headers, body) = http(served.port, &raw);
        assert!(
            [303, 401, 403].contains(&status),
            "{method} {path} answered {status}:\n{body}"
        );
        assert!(
            !body.contains("my-apache-app"),
            "{method} {path} leaked the configuration"
        );
        assert_security_headers(&format!("{method} {path}"), &headers, true);
    }
    let (status, headers, body) = http(
        served.port,
        "GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200, "{body}");
    assert_security_headers("login page", &headers, true);
    // A request line the router does not know is answered, not crashed on.
    let (status, headers, _) = http(
        served.port,
        "GET /../../etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert!((400..500).contains(&status), "{status}");
    assert_security_headers("traversal", &headers, true);
    let (status, _, body) = http(
        served.port,
        "GET /static/..%2F..%2FCargo.toml HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 404, "{body}");
    assert!(!body.contains("[package]"));
}

// ---- secrets on the page

const SECRET: &str = "Tr0ub4dor-horse-battery-91";
const SHORT: &str = "Zq7Wx2";

#[tokio::test]
async fn the_form_never_sends_a_secret_back_even_when_refusing_it() {
    let app = TestApp::new();
    let dictionaries = app.dir.path().join("dictionaries");
    std::fs::create_dir_all(&dictionaries).unwrap();
    std::fs::write(
        dictionaries.join("00-general.yml"),
        "version: 1.1\ngeneral:\n  description: General\n  db_password:\n    description: Database password\n    type: secret\n    mandatory: false\n    mode: basic\n    params:\n      min_len: 12\n  db_user:\n    mode: basic\n    default: brise\n",
    )
    .unwrap();
    app.write_values(&format!("general:\n  db_password: {SECRET}\n"));
    let cookie = app.sign_in().await;
    let page = app.get("/config", Some(&cookie)).await;
    page.assert_status(StatusCode::OK)
        .assert_contains("type=\"password\"")
        .assert_contains("db_user")
        .assert_lacks(SECRET);
    // A refused secret comes back as an error next to an empty field.
    let reply = app
        .post_form(&cookie, &page, &[("v:general.db_password", SHORT)], "save")
        .await;
    reply
        .assert_contains("at least 12 characters")
        .assert_lacks(SHORT)
        .assert_lacks(SECRET);
    assert!(
        app.values().contains(SECRET),
        "the refused secret replaced the saved one"
    );
    // The other pages do not show it either.
    for path in ["/changes", "/apply"] {
        app.get(path, Some(&cookie))
            .await
            .assert_lacks(SECRET)
            .assert_lacks(SHORT);
    }
}

//! The web application in-process (`oneshot`, no port): login, sessions, CSRF,
//! rate limiting, headers, languages, refusals, apply and its event stream.

mod web_common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use web_common::{PASSWORD, TestApp, USER, cookie_pair};

/// Every route that needs a signed-in user, with its method.
const PROTECTED: [(&str, &str); 7] = [
    ("GET", "/config"),
    ("POST", "/config"),
    ("GET", "/changes"),
    ("GET", "/apply"),
    ("POST", "/apply"),
    ("GET", "/apply/events"),
    ("POST", "/logout"),
];

#[tokio::test]
async fn the_login_page_sets_a_strict_http_only_session_cookie() {
    let app = TestApp::new();
    let page = app.get("/login", None).await;
    page.assert_status(StatusCode::OK)
        .assert_contains("<form method=\"post\" action=\"/login\">")
        .assert_contains("autocomplete=\"current-password\"");
    let cookie = page.session_cookie().expect("cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    assert_eq!(page.csrf().len(), 64);
}

#[tokio::test]
async fn the_cookie_is_secure_behind_an_https_proxy() {
    let app = TestApp::new();
    let request = Request::get("/login")
        .header("x-forwarded-proto", "https")
        .body(Body::empty())
        .unwrap();
    let page = app.send(request).await;
    let cookie = page.session_cookie().expect("cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(page.headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
}

#[tokio::test]
async fn every_page_carries_the_security_headers() {
    let app = TestApp::new();
    let cookie = app.sign_in().await;
    for path in [
        "/login",
        "/config",
        "/changes",
        "/apply",
        "/static/app.css",
        "/nowhere",
    ] {
        let reply = app.get(path, Some(&cookie)).await;
        let csp = reply
            .headers
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no csp on {path}"));
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(reply.headers[header::X_FRAME_OPTIONS], "DENY", "{path}");
        assert_eq!(reply.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(reply.headers.contains_key(header::REFERRER_POLICY));
    }
    let page = app.get("/apply", Some(&cookie)).await;
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn pages_have_no_inline_script_or_style_and_no_external_resource() {
    let app = TestApp::shipped(&web_common::demo_values());
    let cookie = app.sign_in().await;
    let handler = regex::Regex::new(r"\son[a-z]+\s*=").unwrap();
    for (path, cookie) in [
        ("/login", None),
        ("/config", Some(cookie.as_str())),
        ("/changes", Some(&cookie)),
        ("/apply", Some(&cookie)),
        ("/nowhere", Some(&cookie)),
    ] {
        let page = app.get(path, cookie).await;
        page.assert_lacks("<script>")
            .assert_lacks("style=")
            .assert_lacks("<style")
            .assert_lacks("javascript:")
            .assert_lacks("http://")
            .assert_lacks("https://");
        assert!(!handler.is_match(&page.body), "inline handler in {path}");
        assert!(
            page.body
                .contains(r#"<script src="/static/app.js" defer></script>"#)
        );
    }
}

#[tokio::test]
async fn every_protected_route_refuses_a_visitor_who_is_not_signed_in() {
    let app = TestApp::new();
    let (anonymous, csrf) = app.anonymous().await;
    for cookie in [None, Some(anonymous.as_str()), Some("brise_session=forged")] {
        for (method, path) in PROTECTED {
            let reply = match method {
                "GET" => app.get(path, cookie).await,
                _ => app.post(path, cookie, &[("csrf", &csrf)]).await,
            };
            match method {
                "POST" => {
                    reply
                        .assert_status(StatusCode::UNAUTHORIZED)
                        .assert_contains("Please sign in.");
                }
                _ => {
                    reply.assert_status(StatusCode::SEE_OTHER);
                    assert_eq!(reply.location(), Some("/login"), "{method} {path}");
                }
            }
        }
    }
}

#[tokio::test]
async fn the_event_stream_refuses_a_browser_that_is_not_signed_in() {
    let app = TestApp::new();
    let request = Request::get("/apply/events")
        .header(header::ACCEPT, "text/event-stream")
        .body(Body::empty())
        .unwrap();
    app.send(request)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn signing_in_gives_a_new_session_id_and_the_old_one_dies() {
    let app = TestApp::new();
    let (anonymous, csrf) = app.anonymous().await;
    let reply = app
        .post(
            "/login",
            Some(&anonymous),
            &[("csrf", &csrf), ("user", USER), ("password", PASSWORD)],
        )
        .await;
    reply.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), Some("/config"));
    let signed_in = cookie_pair(&reply.session_cookie().expect("new cookie"));
    assert_ne!(
        signed_in, anonymous,
        "session fixation: the id did not change"
    );
    app.get("/apply", Some(&signed_in))
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("Signed in as admin");
    let old = app.get("/apply", Some(&anonymous)).await;
    old.assert_status(StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_login_goes_back_to_the_page_asked_for_but_never_elsewhere() {
    let app = TestApp::new();
    for (next, expected) in [("/apply", "/apply"), ("//evil.example/x", "/config")] {
        let (cookie, csrf) = app.anonymous().await;
        let reply = app
            .post(
                "/login",
                Some(&cookie),
                &[
                    ("csrf", &csrf),
                    ("user", USER),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(reply.location(), Some(expected));
    }
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_says_so() {
    let app = TestApp::new();
    let (cookie, csrf) = app.anonymous().await;
    let reply = app
        .post(
            "/login",
            Some(&cookie),
            &[("csrf", &csrf), ("user", USER), ("password", "wrong")],
        )
        .await;
    reply
        .assert_status(StatusCode::UNAUTHORIZED)
        .assert_contains("Unknown user or wrong password.")
        .assert_contains("value=\"admin\"")
        .assert_lacks("wrong\"");
    assert!(reply.session_cookie().is_none());
    let unknown = app
        .post(
            "/login",
            Some(&cookie),
            &[("csrf", &csrf), ("user", "nobody"), ("password", PASSWORD)],
        )
        .await;
    unknown
        .assert_status(StatusCode::UNAUTHORIZED)
        .assert_contains("Unknown user or wrong password.");
}

#[tokio::test]
async fn a_login_with_a_wrong_or_missing_csrf_token_is_refused() {
    let app = TestApp::new();
    let (cookie, csrf) = app.anonymous().await;
    let forged = "0".repeat(64);
    for token in [Some(forged.as_str()), None] {
        let mut fields = vec![("user", USER), ("password", PASSWORD)];
        if let Some(token) = token {
            fields.push(("csrf", token));
        }
        let reply = app.post("/login", Some(&cookie), &fields).await;
        reply
            .assert_status(StatusCode::FORBIDDEN)
            .assert_contains("did not come from this site");
        assert!(reply.session_cookie().is_none());
    }
    // The right token still works afterwards.
    let reply = app
        .post(
            "/login",
            Some(&cookie),
            &[("csrf", &csrf), ("user", USER), ("password", PASSWORD)],
        )
        .await;
    reply.assert_status(StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_login_without_a_session_shows_a_fresh_form() {
    let app = TestApp::new();
    let reply = app
        .post(
            "/login",
            None,
            &[("csrf", "whatever"), ("user", USER), ("password", PASSWORD)],
        )
        .await;
    reply
        .assert_status(StatusCode::FORBIDDEN)
        .assert_contains("Your session expired");
    assert!(reply.session_cookie().is_some());
}

#[tokio::test]
async fn logins_are_rate_limited_per_user_even_with_the_right_password() {
    let app = TestApp::new();
    let (cookie, csrf) = app.anonymous().await;
    for _ in 0..5 {
        app.post(
            "/login",
            Some(&cookie),
            &[("csrf", &csrf), ("user", USER), ("password", "guess")],
        )
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    }
    let reply = app
        .post(
            "/login",
            Some(&cookie),
            &[("csrf", &csrf), ("user", USER), ("password", PASSWORD)],
        )
        .await;
    reply
        .assert_status(StatusCode::TOO_MANY_REQUESTS)
        .assert_contains("Too many failed attempts");
    assert!(reply.headers.contains_key(header::RETRY_AFTER));
    assert!(reply.session_cookie().is_none());
}

#[tokio::test]
async fn logins_are_rate_limited_per_client_address() {
    let app = TestApp::with(|config| config.rate_limits.per_address = 3);
    let (cookie, csrf) = app.anonymous().await;
    let address = std::net::SocketAddr::from(([192, 0, 2, 7], 40000));
    let router = app
        .router()
        .layer(axum::extract::connect_info::MockConnectInfo(address));
    let attempt = |user: &'static str, password: &'static str| {
        let body = web_common::encode(&[("csrf", &csrf), ("user", user), ("password", password)]);
        Request::post("/login")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    use tower::ServiceExt as _;
    for user in ["a", "b", "c"] {
        let response = router.clone().oneshot(attempt(user, "x")).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = router.oneshot(attempt(USER, PASSWORD)).await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = TestApp::new();
    let cookie = app.sign_in().await;
    let csrf = app.csrf(&cookie).await;
    app.post("/logout", Some(&cookie), &[("csrf", "bad")])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let reply = app.post("/logout", Some(&cookie), &[("csrf", &csrf)]).await;
    reply.assert_status(StatusCode::SEE_OTHER);
    let anonymous = cookie_pair(&reply.session_cookie().unwrap());
    assert_ne!(anonymous, cookie);
    app.get("/apply", Some(&anonymous))
        .await
        .assert_status(StatusCode::SEE_OTHER);
    app.get("/apply", Some(&cookie))
        .await
        .assert_status(StatusCode::SEE_OTHER);
    app.get("/login?bye=1", None)
        .await
        .assert_contains("You are signed out.");
}

#[tokio::test]
async fn the_language_follows_the_browser_then_the_switch() {
    let app = TestApp::new();
    let french = Request::get("/login")
        .header(header::ACCEPT_LANGUAGE, "fr-FR,fr;q=0.9,en;q=0.5")
        .body(Body::empty())
        .unwrap();
    let page = app.send(french).await;
    page.assert_contains("<html lang=\"fr\">")
        .assert_contains("Mot de passe");
    let cookie = cookie_pair(&page.session_cookie().unwrap());
    let english = app
        .post(
            "/lang",
            Some(&cookie),
            &[("csrf", &page.csrf()), ("lang", "en"), ("next", "/login")],
        )
        .await;
    english.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(english.location(), Some("/login"));
    let request = Request::get("/login")
        .header(header::ACCEPT_LANGUAGE, "fr")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    app.send(request)
        .await
        .assert_contains("<html lang=\"en\">")
        .assert_contains("Password");
}

#[tokio::test]
async fn the_language_is_kept_across_login() {
    let app = TestApp::new();
    let (cookie, csrf) = app.anonymous().await;
    app.post("/lang", Some(&cookie), &[("csrf", &csrf), ("lang", "fr")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let reply = app
        .post(
            "/login",
            Some(&cookie),
            &[("csrf", &csrf), ("user", USER), ("password", PASSWORD)],
        )
        .await;
    let signed_in = cookie_pair(&reply.session_cookie().unwrap());
    app.get("/apply", Some(&signed_in))
        .await
        .assert_contains("Appliquer la configuration");
}

#[tokio::test]
async fn the_language_switch_refuses_a_bad_token_or_language() {
    let app = TestApp::new();
    let (cookie, csrf) = app.anonymous().await;
    app.post("/lang", Some(&cookie), &[("csrf", "x"), ("lang", "fr")])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.post("/lang", None, &[("csrf", &csrf), ("lang", "fr")])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.post("/lang", Some(&cookie), &[("csrf", &csrf), ("lang", "de")])
        .await
        .assert_status(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_oversized_post_is_refused_with_413() {
    let app = TestApp::with(|config| config.body_limit = 4096);
    let (cookie, csrf) = app.anonymous().await;
    let big = "x".repeat(10_000);
    let reply = app
        .post(
            "/login",
            Some(&cookie),
            &[("csrf", &csrf), ("user", USER), ("password", &big)],
        )
        .await;
    reply
        .assert_status(StatusCode::PAYLOAD_TOO_LARGE)
        .assert_contains("The form sent is too large.");
}

#[tokio::test]
async fn a_malformed_post_is_refused_with_400() {
    let app = TestApp::new();
    let (cookie, _) = app.anonymous().await;
    let wrong_type = Request::post("/login")
        .header(header::COOKIE, &cookie)
        .header(header::ACCEPT_LANGUAGE, "en")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"user\": \"admin\"}"))
        .unwrap();
    app.send(wrong_type)
        .await
        .assert_status(StatusCode::BAD_REQUEST)
        .assert_contains("malformed");
    let duplicate_field = Request::post("/login")
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("user=a&user=b"))
        .unwrap();
    app.send(duplicate_field)
        .await
        .assert_status(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_unknown_page_is_a_translated_404() {
    let app = TestApp::new();
    app.get("/nowhere", None)
        .await
        .assert_status(StatusCode::NOT_FOUND)
        .assert_contains("This page does not exist.");
    let request = Request::get("/nowhere")
        .header(header::ACCEPT_LANGUAGE, "fr")
        .body(Body::empty())
        .unwrap();
    app.send(request)
        .await
        .assert_contains("Cette page n’existe pas.");
}

#[tokio::test]
async fn static_files_are_served_with_their_type() {
    let app = TestApp::new();
    let css = app.get("/static/app.css", None).await;
    css.assert_status(StatusCode::OK);
    assert_eq!(css.headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
    let js = app.get("/static/app.js", None).await;
    assert_eq!(
        js.headers[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    app.get("/static/../Cargo.toml", None)
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn apply_runs_once_at_a_time_and_streams_its_log() {
    let app = TestApp::new();
    let cookie = app.sign_in().await;
    let csrf = app.csrf(&cookie).await;
    app.get("/apply", Some(&cookie))
        .await
        .assert_contains("No apply has run since the server started.");
    let held = app.applier.gate.lock().await;
    app.post("/apply", Some(&cookie), &[("csrf", &csrf)])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let busy = app.post("/apply", Some(&cookie), &[("csrf", &csrf)]).await;
    busy.assert_status(StatusCode::CONFLICT)
        .assert_contains("An apply is already running");
    let running = app.get("/apply", Some(&cookie)).await;
    running
        .assert_contains("data-state=\"running\"")
        .assert_contains("http-equiv=\"refresh\"");
    drop(held);
    let job = app.state.applies().latest().unwrap();
    tokio::time::timeout(Duration::from_secs(10), job.finished())
        .await
        .unwrap();
    let stream = app.get("/apply/events", Some(&cookie)).await;
    stream.assert_status(StatusCode::OK);
    assert_eq!(stream.headers[header::CONTENT_TYPE], "text/event-stream");
    let body = &stream.body;
    let plan = body.find("data: create `web`: not found").expect(body);
    let log = body.find("data: created `web`").expect(body);
    let status = body.find("event: status").expect(body);
    assert!(plan < log && log < status, "{body}");
    assert!(body.contains("\"state\":\"succeeded\""), "{body}");
    let done = app.get("/apply", Some(&cookie)).await;
    done.assert_contains("Applied successfully.")
        .assert_contains("create `web`: not found")
        .assert_lacks("http-equiv=\"refresh\"");
}

#[tokio::test]
async fn the_event_stream_resumes_after_the_last_event_id() {
    let app = TestApp::new();
    let cookie = app.sign_in().await;
    let csrf = app.csrf(&cookie).await;
    app.post("/apply", Some(&cookie), &[("csrf", &csrf)]).await;
    let job = app.state.applies().latest().unwrap();
    tokio::time::timeout(Duration::from_secs(10), job.finished())
        .await
        .unwrap();
    let request = Request::get("/apply/events")
        .header(header::COOKIE, &cookie)
        .header("last-event-id", "1")
        .body(Body::empty())
        .unwrap();
    let reply = app.send(request).await;
    assert!(!reply.body.contains("not found"), "{}", reply.body);
    assert!(!reply.body.contains("pulling"), "{}", reply.body);
    assert!(reply.body.contains("created `web`"), "{}", reply.body);
}

#[tokio::test]
async fn a_failed_apply_says_why() {
    let app = TestApp::new();
    let cookie = app.sign_in().await;
    let csrf = app.csrf(&cookie).await;
    let failing = std::sync::Arc::new(web_common::ScriptedApplier {
        fail: true,
        ..Default::default()
    });
    let job = app.state.applies().start(failing, USER).unwrap();
    tokio::time::timeout(Duration::from_secs(10), job.finished())
        .await
        .unwrap();
    app.get("/apply", Some(&cookie))
        .await
        .assert_contains("The apply failed: `web`: start failed");
    let _ = csrf;
}

#[tokio::test]
async fn apply_refuses_a_bad_csrf_token() {
    let app = TestApp::new();
    let cookie = app.sign_in().await;
    app.post("/apply", Some(&cookie), &[("csrf", &"f".repeat(64))])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert!(app.state.applies().latest().is_none());
}

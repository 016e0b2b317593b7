//! The configuration form in-process (`oneshot`): built from the dictionaries,
//! posted back, validated by the core (and the cross-container checks),
//! saved with a version check; the changes-not-applied page.

mod web_common;

use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use web_common::{Reply, TestApp, demo_values, input_value};

const APACHE: &str = "containers.container_my_apache_app";

fn fixture_app(values: &str) -> TestApp {
    let app = TestApp::with(|config| {
        config.settings.dictionaries =
            vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/web/dictionaries")];
    });
    app.write_values(values);
    app
}

/// Sign in and open the form in standard mode.
async fn standard(app: &TestApp) -> (String, Reply) {
    let cookie = app.sign_in().await;
    let page = app.get("/config", Some(&cookie)).await;
    page.assert_status(StatusCode::OK);
    let page = app
        .post_form(&cookie, &page, &[("mode", "standard")], "refresh")
        .await;
    page.assert_status(StatusCode::OK);
    (cookie, page)
}

#[tokio::test]
async fn the_form_needs_a_signed_in_user() {
    let app = TestApp::shipped(&demo_values());
    let page = app.get("/config", None).await;
    page.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/login"));
    app.get("/changes", None)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let (anonymous, csrf) = app.anonymous().await;
    app.post(
        "/config",
        Some(&anonymous),
        &[("csrf", &csrf), ("action", "save")],
    )
    .await
    .assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn basic_mode_shows_only_basic_fields_and_standard_shows_more() {
    let app = TestApp::shipped(&demo_values());
    let cookie = app.sign_in().await;
    let basic = app.get("/config", Some(&cookie)).await;
    basic
        .assert_status(StatusCode::OK)
        .assert_contains("Container my-apache-app")
        .assert_contains(&format!("name=\"v:{APACHE}.name\""))
        .assert_lacks(&format!("name=\"v:{APACHE}.repository\""))
        .assert_lacks("v:containers.names[0]");
    let (cookie, standard) = standard(&app).await;
    standard
        .assert_contains(&format!("name=\"v:{APACHE}.repository\" value=\"httpd\""))
        .assert_contains("name=\"v:containers.names[1]\" value=\"my-apache-app\"")
        .assert_contains(r#"<option value="standard" selected>"#)
        .assert_lacks(&format!("v:{APACHE}.stop_timeout"));
    assert_eq!(
        input_value(&standard.body, &format!("v:{APACHE}.ports.host_port[0]")).as_deref(),
        Some("8081")
    );
    assert_eq!(
        input_value(
            &standard.body,
            &format!("v:{APACHE}.shared_dirs.host_dir[0]")
        )
        .as_deref(),
        Some("/var/eole-httpd/")
    );
    // The mode is kept for the session.
    app.get("/config", Some(&cookie))
        .await
        .assert_contains(r#"<option value="standard" selected>"#);
}

#[tokio::test]
async fn fields_get_the_right_input_and_marks() {
    let app = fixture_app("");
    let cookie = app.sign_in().await;
    let page = app.get("/config", Some(&cookie)).await;
    page.assert_status(StatusCode::OK)
        // A description as label, bound to its input, with its help.
        .assert_contains(r#"<label for="f-general-server_name">Server name<abbr class="req" title="required">*</abbr></label>"#)
        .assert_contains("The name the server answers to")
        // A boolean is yes / no.
        .assert_contains(r#"<select id="f-general-use_proxy" name="v:general.use_proxy""#)
        .assert_contains(r#"<option value="false" selected>no</option>"#)
        // A secret is a password field, empty.
        .assert_contains(r#"type="password" autocomplete="new-password" name="v:general.admin_password" value="""#)
        // Frozen: read-only and never posted.
        .assert_contains(r#"id="f-general-release" type="text" readonly value="2.9""#)
        .assert_lacks("name=\"v:general.release\"")
        // Hidden and disabled: absent; a family with nothing visible: no tab.
        .assert_lacks("general.internal")
        .assert_lacks("general.proxy_address")
        .assert_lacks("Nothing visible")
        // A multi: rows with add.
        .assert_contains("value=\"add:general.dns\"");
}

#[tokio::test]
async fn a_condition_is_evaluated_again_when_its_source_changes() {
    let app = fixture_app("");
    let cookie = app.sign_in().await;
    let page = app.get("/config", Some(&cookie)).await;
    let refreshed = app
        .post_form(
            &cookie,
            &page,
            &[("v:general.use_proxy", "true")],
            "refresh",
        )
        .await;
    refreshed
        .assert_contains(r#"name="v:general.proxy_address""#)
        .assert_contains("not saved");
    assert_eq!(app.values(), "", "a refresh saves nothing");
}

#[tokio::test]
async fn an_invalid_value_is_refused_next_to_its_field_and_nothing_is_saved() {
    let app = fixture_app("");
    let cookie = app.sign_in().await;
    let page = app.get("/config", Some(&cookie)).await;
    let refused = app
        .post_form(
            &cookie,
            &page,
            &[("v:general.server_name", "not a name!")],
            "save",
        )
        .await;
    refused
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains(r#"id="error-summary""#)
        .assert_contains(r##"<a href="#f-general-server_name">Server name</a>"##)
        .assert_contains(r#"aria-invalid="true""#)
        .assert_contains(r#"class="field-error""#)
        // What was typed stays in the field.
        .assert_contains(r#"value="not a name!""#);
    assert_eq!(app.values(), "");
}

#[tokio::test]
async fn saving_writes_only_what_changed_and_says_so() {
    let app = fixture_app("");
    let cookie = app.sign_in().await;
    let page = app.get("/config", Some(&cookie)).await;
    let saved = app
        .post_form(
            &cookie,
            &page,
            &[("v:general.server_name", "lycee.example")],
            "save",
        )
        .await;
    saved.assert_status(StatusCode::SEE_OTHER);
    let location = saved.location().unwrap().to_owned();
    assert!(location.starts_with("/config?saved=1"), "{location}");
    let values = app.values_unquoted();
    assert!(values.contains("server_name: lycee.example"), "{values}");
    assert!(
        !values.contains("use_proxy"),
        "untouched fields stay unset:\n{values}"
    );
    let after = app.get(&location, Some(&cookie)).await;
    after
        .assert_contains("Saved. The changes take effect when you apply them.")
        .assert_contains(r#"value="lycee.example""#);
    // Saving the same form again changes nothing.
    let again = app.post_form(&cookie, &after, &[], "save").await;
    assert_eq!(again.location(), Some("/config?saved=0&tab=general"));
}

#[tokio::test]
async fn a_save_over_a_newer_version_is_refused() {
    let app = fixture_app("");
    let cookie = app.sign_in().await;
    let page = app.get("/config", Some(&cookie)).await;
    // Someone else saves meanwhile.
    app.write_values("general:\n  server_name: other.example\n");
    let refused = app
        .post_form(
            &cookie,
            &page,
            &[("v:general.server_name", "mine.example")],
            "save",
        )
        .await;
    refused
        .assert_status(StatusCode::CONFLICT)
        .assert_contains("The configuration changed meanwhile")
        .assert_contains(r#"value="mine.example""#);
    assert_eq!(app.values(), "general:\n  server_name: other.example\n");
    // Saving again, knowingly, from the page that said so, works.
    let second = app.post_form(&cookie, &refused, &[], "save").await;
    second.assert_status(StatusCode::SEE_OTHER);
    assert!(app.values_unquoted().contains("mine.example"));
}

#[tokio::test]
async fn a_save_while_another_run_holds_the_lock_is_refused_at_once_and_keeps_the_draft() {
    let app = fixture_app("");
    let cookie = app.sign_in().await;
    let page = app.get("/config", Some(&cookie)).await;
    // An apply or a `brise set` is running: it holds the run lock.
    let held = brise::lock::acquire(
        &app.dir.path().join("state"),
        "reconfigure",
        brise::lock::Wait::NoWait,
        &mut |_| {},
    )
    .expect("the test takes the run lock");
    let refused = app
        .post_form(
            &cookie,
            &page,
            &[("v:general.server_name", "mine.example")],
            "save",
        )
        .await;
    refused
        .assert_status(StatusCode::CONFLICT)
        .assert_contains("nothing was saved")
        .assert_contains(r#"value="mine.example""#);
    assert_eq!(
        app.values(),
        "",
        "nothing is written while the lock is held"
    );
    drop(held);
    // Once the other run has finished, saving the same page works.
    let second = app.post_form(&cookie, &refused, &[], "save").await;
    second.assert_status(StatusCode::SEE_OTHER);
    assert!(app.values_unquoted().contains("mine.example"));
}

#[tokio::test]
async fn a_secret_is_never_sent_back_and_empty_keeps_it() {
    let app = fixture_app("general:\n  admin_password: s3cr3t-value\n");
    let cookie = app.sign_in().await;
    let page = app.get("/config", Some(&cookie)).await;
    page.assert_lacks("s3cr3t-value")
        .assert_contains("A value is set; leave empty to keep it.");
    let kept = app
        .post_form(
            &cookie,
            &page,
            &[("v:general.server_name", "a.example")],
            "save",
        )
        .await;
    kept.assert_status(StatusCode::SEE_OTHER);
    assert!(
        app.values_unquoted()
            .contains("admin_password: s3cr3t-value"),
        "{}",
        app.values()
    );
    let page = app.get("/config", Some(&cookie)).await;
    // A refresh with a new secret does not show it either, and a save keeps it.
    let refreshed = app
        .post_form(
            &cookie,
            &page,
            &[("v:general.admin_password", "n3w-s3cret")],
            "refresh",
        )
        .await;
    refreshed.assert_lacks("n3w-s3cret");
    let saved = app.post_form(&cookie, &refreshed, &[], "save").await;
    saved.assert_status(StatusCode::SEE_OTHER);
    assert!(
        app.values_unquoted().contains("n3w-s3cret"),
        "{}",
        app.values()
    );
    let changes = app.get("/changes", Some(&cookie)).await;
    changes
        .assert_lacks("n3w-s3cret")
        .assert_lacks("s3cr3t-value");
}

#[tokio::test]
async fn rows_are_added_and_removed_in_a_multi() {
    let app = fixture_app("");
    let cookie = app.sign_in().await;
    let page = app.get("/config", Some(&cookie)).await;
    let one = app.post_form(&cookie, &page, &[], "add:general.dns").await;
    one.assert_contains(r#"name="v:general.dns[0]" value="""#);
    let two = app
        .post_form(
            &cookie,
            &one,
            &[("v:general.dns[0]", "192.0.2.1")],
            "add:general.dns",
        )
        .await;
    two.assert_contains(r#"name="v:general.dns[1]" value="""#);
    let filled = app
        .post_form(
            &cookie,
            &two,
            &[("v:general.dns[1]", "192.0.2.2")],
            "remove:general.dns:0",
        )
        .await;
    filled
        .assert_contains(r#"name="v:general.dns[0]" value="192.0.2.2""#)
        .assert_lacks("v:general.dns[1]");
    let saved = app.post_form(&cookie, &filled, &[], "save").await;
    saved.assert_status(StatusCode::SEE_OTHER);
    assert!(
        app.values_unquoted().contains("- 192.0.2.2"),
        "{}",
        app.values()
    );
    assert!(
        !app.values_unquoted().contains("192.0.2.1"),
        "{}",
        app.values()
    );
}

#[tokio::test]
async fn adding_a_container_creates_its_section_and_a_port_pair() {
    let app = TestApp::shipped(&demo_values());
    let (cookie, page) = standard(&app).await;
    let added = app
        .post_form(
            &cookie,
            &page,
            &[("new:containers.names", "web2")],
            "add-instance:containers.names",
        )
        .await;
    added
        .assert_contains("Container web2")
        .assert_contains("name=\"v:containers.names[2]\" value=\"web2\"");
    let row = app
        .post_form(
            &cookie,
            &added,
            &[],
            "add:containers.container_web2.ports.container_port",
        )
        .await;
    row.assert_contains("v:containers.container_web2.ports.host_port[0]");
    let filled = app
        .post_form(
            &cookie,
            &row,
            &[
                ("v:containers.container_web2.repository", "httpd"),
                ("v:containers.container_web2.ports.container_port[0]", "80"),
                ("v:containers.container_web2.ports.host_port[0]", "8082"),
            ],
            "save",
        )
        .await;
    filled.assert_status(StatusCode::SEE_OTHER);
    let values = app.values_unquoted();
    assert!(values.contains("- web2"), "{values}");
    assert!(values.contains("host_port: 8082"), "{values}");
}

#[tokio::test]
async fn a_host_port_declared_twice_is_shown_on_its_field_then_fixed() {
    let app = TestApp::shipped(&demo_values());
    let (cookie, page) = standard(&app).await;
    let added = app
        .post_form(
            &cookie,
            &page,
            &[("new:containers.names", "web2")],
            "add-instance:containers.names",
        )
        .await;
    let row = app
        .post_form(
            &cookie,
            &added,
            &[],
            "add:containers.container_web2.ports.container_port",
        )
        .await;
    let duplicate = app
        .post_form(
            &cookie,
            &row,
            &[
                ("v:containers.container_web2.repository", "httpd"),
                ("v:containers.container_web2.ports.container_port[0]", "80"),
                ("v:containers.container_web2.ports.host_port[0]", "8081"),
            ],
            "save",
        )
        .await;
    duplicate
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("8081")
        .assert_contains(r##"href="#f-containers-container_web2-ports-host_port-0""##);
    assert_eq!(app.values(), demo_values(), "nothing saved");
    let fixed = app
        .post_form(
            &cookie,
            &duplicate,
            &[("v:containers.container_web2.ports.host_port[0]", "8082")],
            "save",
        )
        .await;
    fixed.assert_status(StatusCode::SEE_OTHER);
    assert!(app.values_unquoted().contains("8082"));
}

#[tokio::test]
async fn a_calculated_default_follows_its_source_and_is_not_pinned() {
    let app = TestApp::shipped(&demo_values());
    let (cookie, page) = standard(&app).await;
    let renamed = app
        .post_form(
            &cookie,
            &page,
            &[(&format!("v:{APACHE}.name"), "apache")],
            "refresh",
        )
        .await;
    assert_eq!(
        input_value(&renamed.body, &format!("v:{APACHE}.proxy_path")).as_deref(),
        Some("/apache")
    );
    let saved = app.post_form(&cookie, &renamed, &[], "save").await;
    saved.assert_status(StatusCode::SEE_OTHER);
    let values = app.values_unquoted();
    assert!(values.contains("name: apache"), "{values}");
    assert!(
        !values.contains("proxy_path"),
        "the calculated path was pinned:\n{values}"
    );
}

#[tokio::test]
async fn removing_a_container_removes_its_identifier() {
    let app = TestApp::shipped(&demo_values());
    let (cookie, page) = standard(&app).await;
    let removed = app
        .post_form(
            &cookie,
            &page,
            &[],
            "remove-instance:containers.names:hello-world",
        )
        .await;
    removed.assert_lacks("Container hello-world");
    app.post_form(&cookie, &removed, &[], "save")
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert!(
        !app.values_unquoted().contains("- hello-world"),
        "{}",
        app.values()
    );
}

#[tokio::test]
async fn adding_an_existing_or_empty_identifier_is_refused() {
    let app = TestApp::shipped(&demo_values());
    let (cookie, page) = standard(&app).await;
    app.post_form(
        &cookie,
        &page,
        &[("new:containers.names", "hello-world")],
        "add-instance:containers.names",
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
    .assert_contains("<code>hello-world</code> is already in the list");
    app.post_form(
        &cookie,
        &page,
        &[("new:containers.names", " ")],
        "add-instance:containers.names",
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
    .assert_contains("type the identifier to add");
}

#[tokio::test]
async fn the_form_is_french_with_the_dictionary_translations() {
    let app = fixture_app("");
    let cookie = app.sign_in().await;
    let csrf = app.csrf(&cookie).await;
    app.post("/lang", Some(&cookie), &[("csrf", &csrf), ("lang", "fr")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let page = app.get("/config", Some(&cookie)).await;
    page.assert_contains(">Général</a>")
        .assert_contains("Nom du serveur")
        .assert_contains("Le nom auquel le serveur répond")
        .assert_contains("Enregistrer")
        // Untranslated texts fall back to the dictionary's.
        .assert_contains("Use a proxy");
}

#[tokio::test]
async fn a_post_with_a_bad_token_or_shape_is_refused_and_changes_nothing() {
    let app = fixture_app("");
    let cookie = app.sign_in().await;
    let page = app.get("/config", Some(&cookie)).await;
    app.post_form(
        &cookie,
        &page,
        &[("csrf", "nope"), ("v:general.server_name", "x.example")],
        "save",
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
    app.post_form(&cookie, &page, &[("surprise", "1")], "save")
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    app.post_form(&cookie, &page, &[("mode", "expert-ish")], "save")
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    app.post_form(&cookie, &page, &[], "explode")
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(app.values(), "");
}

#[tokio::test]
async fn setting_a_frozen_or_hidden_variable_by_hand_is_refused() {
    let app = fixture_app("");
    let cookie = app.sign_in().await;
    let page = app.get("/config", Some(&cookie)).await;
    for (name, value) in [
        ("v:general.release", "3.0"),
        ("v:general.internal", "changed"),
    ] {
        let reply = app
            .post_form(&cookie, &page, &[(name, value)], "save")
            .await;
        reply.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.values(), "", "{name}");
    }
}

#[tokio::test]
async fn an_oversized_form_is_refused() {
    let app = TestApp::with(|config| config.body_limit = 10_000);
    let cookie = app.sign_in().await;
    let csrf = app.csrf(&cookie).await;
    let big = "x".repeat(20_000);
    app.post("/config", Some(&cookie), &[("csrf", &csrf), ("v:a", &big)])
        .await
        .assert_status(StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn the_changes_page_lists_what_is_not_applied() {
    let app = TestApp::shipped(&demo_values());
    let cookie = app.sign_in().await;
    let never = app.get("/changes", Some(&cookie)).await;
    never
        .assert_status(StatusCode::OK)
        .assert_contains("has never been applied")
        .assert_contains("my-apache-app");
    // Record the current values as applied, then change one.
    std::fs::copy(app.values_path(), app.dir.path().join("values.applied.yml")).unwrap();
    app.get("/changes", Some(&cookie))
        .await
        .assert_contains("The saved configuration is the one applied last.");
    let (cookie, page) = standard(&app).await;
    app.post_form(
        &cookie,
        &page,
        &[(&format!("v:{APACHE}.tag"), "2.5")],
        "save",
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let changes = app.get("/changes", Some(&cookie)).await;
    changes
        .assert_contains(&format!("{APACHE}.tag"))
        .assert_contains(r#"<td class="old">2.4</td><td class="new">2.5</td>"#);
}

#[tokio::test]
async fn a_partial_refresh_answers_the_same_page() {
    let app = fixture_app("");
    let cookie = app.sign_in().await;
    let page = app.get("/config", Some(&cookie)).await;
    let mut fields = web_common::form_fields(&page.body, "config-form");
    web_common::set_field(&mut fields, "v:general.use_proxy", "true");
    web_common::set_field(&mut fields, "action", "refresh");
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let request = Request::post("/config")
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-brise-partial", "1")
        .body(Body::from(web_common::encode(&pairs)))
        .unwrap();
    // The field that appears is mandatory and empty: said at once.
    app.send(request)
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains(r#"id="config-form""#)
        .assert_contains("v:general.proxy_address");
}

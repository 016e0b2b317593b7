//! End-to-end in a real headless chromium (Debian's chromium + chromium-driver)
//! against the real `brise serve` binary. Screenshots of the main pages are kept
//! in `<target>/test-artifacts/screenshots/`.

mod browser_common;
#[path = "common/nginx.rs"]
#[allow(unreachable_pub)]
mod nginx;

use std::time::Duration;

use browser_common::{
    Containers, Driver, Server, ServerSetup, click, has, screenshot, sign_in, text_of, type_into,
    wait_until,
};
use fantoccini::Locator;

#[tokio::test]
#[ignore = "needs chromium"]
async fn signing_in_and_switching_language_in_a_real_browser() {
    let driver = Driver::start();
    let server = Server::start(ServerSetup::default());
    let profile = tempfile::Builder::new()
        .prefix("brise-web-chromium-")
        .tempdir()
        .unwrap();
    let client = driver.browser(profile.path(), 1280, 800).await;

    client.goto(&format!("{}/apply", server.url)).await.unwrap();
    let url = client.current_url().await.unwrap();
    assert_eq!(
        url.path(),
        "/login",
        "not signed in: sent to the login page"
    );
    screenshot(&client, "login-en-1280x800").await;

    // A wrong password is refused, in the page's language.
    client
        .find(Locator::Id("user"))
        .await
        .unwrap()
        .send_keys("admin")
        .await
        .unwrap();
    client
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys("nope")
        .await
        .unwrap();
    client
        .find(Locator::Css("form[action='/login'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_until(
        &client,
        "the refusal",
        Duration::from_secs(20),
        |c| async move { text_of(&c, "#login-error").await.contains("wrong password") },
    )
    .await;
    screenshot(&client, "login-refused-en-1280x800").await;

    // The switch turns the page French.
    client
        .find(Locator::Css(".langswitch button[value=fr]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_until(
        &client,
        "the French page",
        Duration::from_secs(10),
        |c| async move { text_of(&c, "h1").await == "Connexion" },
    )
    .await;
    screenshot(&client, "login-fr-1280x800").await;

    sign_in(&client, &server).await;
    client.goto(&format!("{}/apply", server.url)).await.unwrap();
    assert_eq!(text_of(&client, "h1").await, "Appliquer la configuration");
    screenshot(&client, "apply-idle-fr-1280x800").await;

    // Signing out ends the session.
    client
        .find(Locator::Css("form.logout button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_until(
        &client,
        "the signed-out page",
        Duration::from_secs(10),
        |c| async move { text_of(&c, ".notice.info").await.contains("déconnecté") },
    )
    .await;
    client.goto(&format!("{}/apply", server.url)).await.unwrap();
    assert_eq!(client.current_url().await.unwrap().path(), "/login");
    client.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs chromium, docker, the local registry and nginx"]
async fn an_administrator_adds_a_container_fixes_a_port_saves_and_applies() {
    let prefix = format!("bwe{}", std::process::id());
    let _containers = Containers {
        prefix: prefix.clone(),
    };
    let (app1, app2) = (format!("{prefix}-app1"), format!("{prefix}-app2"));
    let (family1, family2) = (
        format!("containers.container_{prefix}_app1"),
        format!("containers.container_{prefix}_app2"),
    );
    let port1 = nginx::free_port();
    let port2 = nginx::free_port();
    let values = format!(
        "containers:\n  names:\n    - {app1}\n  container_{prefix}_app1:\n    registry: localhost:5000\n    repository: brise-demo/httpd\n    tag: \"2.4\"\n    ports:\n      - container_port: 80\n        host_port: {port1}\n"
    );
    let root = tempfile::Builder::new()
        .prefix("brise-web-e2e-root-")
        .tempdir()
        .unwrap();
    let mut proxy = nginx::Nginx::configure(root.path());
    proxy.start();
    let driver = Driver::start();
    let server = Server::start(ServerSetup {
        values,
        args: vec![
            "--root".into(),
            root.path().display().to_string(),
            "--nginx".into(),
            nginx::binary().display().to_string(),
            "--scope".into(),
            prefix.clone(),
        ],
        ..ServerSetup::default()
    });
    let profile = tempfile::Builder::new()
        .prefix("brise-web-chromium-")
        .tempdir()
        .unwrap();
    let client = driver.browser(profile.path(), 1280, 800).await;
    let long = Duration::from_secs(30);

    sign_in(&client, &server).await;
    client
        .goto(&format!("{}/config", server.url))
        .await
        .unwrap();
    screenshot(&client, "config-basic-en-1280x800").await;

    // Standard mode.
    client
        .find(Locator::Id("mode"))
        .await
        .unwrap()
        .select_by_value("standard")
        .await
        .unwrap();
    click(&client, "#mode-show").await;
    wait_until(&client, "the standard mode", long, |c| async move {
        has(&c, "#f-containers-names").await
    })
    .await;
    screenshot(&client, "config-standard-en-1280x800").await;

    // Add a container.
    type_into(&client, "#new-containers-names", &app2).await;
    click(&client, "#new-containers-names-button").await;
    let section = format!("#family-containers-container_{prefix}_app2");
    wait_until(&client, "the new container's section", long, |c| {
        let section = section.clone();
        async move { has(&c, &section).await }
    })
    .await;
    type_into(
        &client,
        &format!("[name='v:{family2}.registry']"),
        "localhost:5000",
    )
    .await;
    type_into(
        &client,
        &format!("[name='v:{family2}.repository']"),
        "brise-demo/httpd",
    )
    .await;
    type_into(&client, &format!("[name='v:{family2}.tag']"), "2.4").await;
    // A port pair: a new row in the ports table.
    click(
        &client,
        &format!("button[value='add:{family2}.ports.container_port']"),
    )
    .await;
    let host_port = format!("[name='v:{family2}.ports.host_port[0]']");
    wait_until(&client, "the new port row", long, |c| {
        let host_port = host_port.clone();
        async move { has(&c, &host_port).await }
    })
    .await;
    type_into(
        &client,
        &format!("[name='v:{family2}.ports.container_port[0]']"),
        "80",
    )
    .await;
    // The same host port as the first container: refused.
    type_into(&client, &host_port, &port1.to_string()).await;
    click(&client, "#save").await;
    wait_until(&client, "the error summary", long, |c| async move {
        has(&c, "#error-summary").await
    })
    .await;
    let cell_error = format!("#f-containers-container_{prefix}_app2-ports-host_port-0-error");
    let message = text_of(&client, &cell_error).await;
    assert!(
        message.contains(&port1.to_string()),
        "error next to the field: {message:?}"
    );
    assert!(
        text_of(&client, "#error-summary")
            .await
            .contains(&port1.to_string())
    );
    assert!(!server.values().contains(&app2), "nothing saved yet");
    screenshot(&client, "config-error-en-1280x800").await;
    // The summary's link leads to the field, which says what is wrong.
    click(&client, "#error-summary a").await;
    let focused = client.active_element().await.unwrap();
    assert_eq!(
        focused.attr("name").await.unwrap().as_deref(),
        Some(format!("v:{family2}.ports.host_port[0]").as_str())
    );
    screenshot(&client, "config-error-field-en-1280x800").await;

    // Fixed, then saved.
    type_into(&client, &host_port, &port2.to_string()).await;
    click(&client, "#save").await;
    wait_until(&client, "the saved notice", long, |c| async move {
        text_of(&c, "#notice").await.contains("Saved")
    })
    .await;
    let saved = server.values();
    assert!(
        saved.contains(&app2) && saved.contains(&port2.to_string()),
        "{saved}"
    );
    screenshot(&client, "config-saved-en-1280x800").await;

    client
        .goto(&format!("{}/changes", server.url))
        .await
        .unwrap();
    assert!(text_of(&client, "#changes").await.contains(&app2));
    screenshot(&client, "changes-en-1280x800").await;

    // Apply for real: the log streams in and ends with success.
    click(&client, "form[action='/apply'] button[type=submit]").await;
    wait_until(&client, "the apply page", long, |c| async move {
        c.current_url()
            .await
            .map(|u| u.path() == "/apply")
            .unwrap_or(false)
    })
    .await;
    wait_until(
        &client,
        "the end of the apply",
        Duration::from_secs(240),
        |c| async move {
            let state = c
                .find(Locator::Id("run"))
                .await
                .ok()
                .map(|e| async move { e.attr("data-state").await.ok().flatten() });
            match state {
                Some(state) => !matches!(state.await.as_deref(), Some("running") | None),
                None => false,
            }
        },
    )
    .await;
    let status = text_of(&client, "#apply-status").await;
    let log = text_of(&client, "#apply-log").await;
    let plan = text_of(&client, "#apply-plan").await;
    screenshot(&client, "apply-done-en-1280x800").await;
    assert_eq!(
        status, "Applied successfully.",
        "log:\n{log}\nplan:\n{plan}"
    );
    assert!(
        plan.contains(&app2),
        "the plan comes first and names the new container:\n{plan}"
    );
    assert!(log.trim_end().ends_with("reconfigure: done"), "{log}");

    // The new container answers through the generated nginx location.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let answer = proxy.get(&format!("/{app2}/"));
        if answer
            .as_ref()
            .is_some_and(|(_, body)| body.contains("It works!"))
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no answer through nginx: {answer:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The form on a tablet, in French.
    client.set_window_size(820, 1180).await.unwrap();
    client
        .goto(&format!("{}/config", server.url))
        .await
        .unwrap();
    click(&client, ".langswitch button[value=fr]").await;
    wait_until(&client, "the French form", long, |c| async move {
        text_of(&c, "#save").await == "Enregistrer"
    })
    .await;
    screenshot(&client, "config-fr-tablet").await;
    let _ = family1;
    client.close().await.unwrap();
}

//! End-to-end in a real headless chromium (Debian's chromium + chromium-driver)
//! against the real `brise serve` binary. Screenshots of the main pages are kept
//! in `<target>/test-artifacts/screenshots/`.

mod browser_common;

use std::time::Duration;

use browser_common::{Driver, Server, ServerSetup, screenshot, sign_in, text_of, wait_until};
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

//! The real-browser harness: the real `brise serve` binary on a free 127.0.0.1
//! port over a temporary server layout, Debian's chromedriver on another, and a
//! headless chromium driven with fantoccini. Screenshots are kept in
//! `<target>/test-artifacts/screenshots/`. Everything started here is ended by
//! its own PID on drop.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    // The harness starts long-running programs (chromedriver, the server), which
    // `brise::command` (run to completion) is not for.
    clippy::disallowed_methods
)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

pub const USER: &str = "admin";
pub const PASSWORD: &str = "brise-e2e-password";

/// Where screenshots go (kept after the run, for people to look at).
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("test-artifacts")
        .join("screenshots")
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

/// A child process ended (SIGTERM, then SIGKILL) when dropped.
pub struct Process {
    pub child: Child,
    pub name: &'static str,
}

impl Drop for Process {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Wait until something accepts connections on the port.
fn wait_for_port(port: u16, what: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited ({status}) before listening on port {port}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not listen on port {port} within 30 s");
}

/// chromedriver, started on a free port.
pub struct Driver {
    pub process: Process,
    pub port: u16,
}

impl Driver {
    pub fn start() -> Self {
        let port = free_port();
        let child = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start /usr/bin/chromedriver (Debian package chromium-driver): the browser tests need it");
        let mut process = Process {
            child,
            name: "chromedriver",
        };
        wait_for_port(port, "chromedriver", &mut process.child);
        Self { process, port }
    }

    /// A new headless chromium session with a fresh profile, at this window size.
    pub async fn browser(&self, profile: &Path, width: u32, height: u32) -> Client {
        let args = serde_json::json!([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--disable-extensions",
            "--disable-default-apps",
            "--metrics-recording-only",
            "--no-default-browser-check",
            "--lang=en-US",
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.display()),
        ]);
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                "args": args,
                "prefs": { "intl.accept_languages": "en-US,en" },
            }),
        );
        let client = ClientBuilder::native()
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("cannot start a chromium session through chromedriver");
        // The window includes whatever the browser draws around the page: grow
        // it so that the page itself gets `width`×`height`.
        client
            .set_window_size(width, height)
            .await
            .expect("window size");
        let inner = client
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await
            .expect("inner size");
        let inner_w = inner[0].as_u64().unwrap_or(u64::from(width));
        let inner_h = inner[1].as_u64().unwrap_or(u64::from(height));
        let grow = |outer: u32, inner: u64| {
            outer + u32::try_from(u64::from(outer).saturating_sub(inner)).unwrap_or(0)
        };
        client
            .set_window_size(grow(width, inner_w), grow(height, inner_h))
            .await
            .expect("window size");
        client
    }
}

/// `brise serve` over a temporary server layout.
pub struct Server {
    pub process: Process,
    pub url: String,
    pub dir: tempfile::TempDir,
    pub log: mpsc::Receiver<String>,
}

/// What the server is started with.
pub struct ServerSetup {
    /// Dictionary directories (default: the shipped `dictionaries/`).
    pub dictionaries: Vec<PathBuf>,
    /// Template directories (default: the shipped `templates/`).
    pub templates: Vec<PathBuf>,
    /// Initial values.yml text.
    pub values: String,
    /// Extra arguments to `brise serve`.
    pub args: Vec<String>,
    /// Extra global arguments / environment.
    pub env: Vec<(String, String)>,
}

impl Default for ServerSetup {
    fn default() -> Self {
        Self {
            dictionaries: vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("dictionaries")],
            templates: vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")],
            values: String::new(),
            args: Vec::new(),
            env: Vec::new(),
        }
    }
}

impl Server {
    pub fn start(setup: ServerSetup) -> Self {
        let brise = env!("CARGO_BIN_EXE_brise");
        let dir = tempfile::Builder::new()
            .prefix("brise-web-e2e-")
            .tempdir()
            .expect("temp dir");
        let users = dir.path().join("web-users");
        // The user is created with the real `brise passwd`, password on stdin.
        let mut passwd = Command::new(brise)
            .args(["passwd", "--users-file"])
            .arg(&users)
            .arg(USER)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run brise passwd");
        writeln!(passwd.stdin.take().expect("stdin"), "{PASSWORD}").expect("write password");
        let output = passwd.wait_with_output().expect("brise passwd");
        assert!(output.status.success(), "brise passwd failed: {output:?}");
        let values = dir.path().join("values.yml");
        let mut file = std::fs::File::create(&values).expect("values file");
        file.write_all(setup.values.as_bytes()).expect("values");
        for sub in ["state", "templates", "hooks", "root"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("layout");
        }
        let mut command = Command::new(brise);
        for dictionaries in &setup.dictionaries {
            command.arg("--dictionaries").arg(dictionaries);
        }
        for templates in &setup.templates {
            command.arg("--templates").arg(templates);
        }
        command
            .arg("--values")
            .arg(&values)
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .arg("--hooks-dir")
            .arg(dir.path().join("hooks"))
            .args(["serve", "--listen", "127.0.0.1:0", "--users-file"])
            .arg(&users)
            .args(&setup.args)
            .env("BRISE_LOG", "info")
            .envs(setup.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start brise serve");
        let stderr = child.stderr.take().expect("stderr");
        let (sender, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[brise serve] {line}");
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let process = Process {
            child,
            name: "brise serve",
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = log
                .recv_timeout(left)
                .expect("brise serve did not say where it listens within 30 s");
            if let Some(at) = line.find("http://127.0.0.1:") {
                break line[at..].trim_end_matches('/').to_owned();
            }
        };
        Self {
            process,
            url,
            dir,
            log,
        }
    }

    pub fn values_path(&self) -> PathBuf {
        self.dir.path().join("values.yml")
    }

    pub fn values(&self) -> String {
        std::fs::read_to_string(self.values_path()).expect("values.yml")
    }
}

/// Save a screenshot of the page as `<name>.png`.
pub async fn screenshot(client: &Client, name: &str) -> PathBuf {
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let png = client.screenshot().await.expect("screenshot");
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write screenshot");
    path
}

/// Wait until `check` holds (polling the page), or fail with `what`.
pub async fn wait_until<F, Fut>(client: &Client, what: &str, timeout: Duration, mut check: F)
where
    F: FnMut(Client) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if check(client.clone()).await {
            return;
        }
        if Instant::now() > deadline {
            let source = client.source().await.unwrap_or_default();
            panic!("timed out waiting for {what}; page:\n{source}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The text of the element with this CSS selector (empty when absent).
pub async fn text_of(client: &Client, css: &str) -> String {
    match client.find(Locator::Css(css)).await {
        Ok(element) => element.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Sign in through the login form.
pub async fn sign_in(client: &Client, server: &Server) {
    client
        .goto(&format!("{}/login", server.url))
        .await
        .expect("open login");
    let user = client.find(Locator::Id("user")).await.expect("user field");
    user.send_keys(USER).await.expect("type user");
    let password = client
        .find(Locator::Id("password"))
        .await
        .expect("password field");
    password.send_keys(PASSWORD).await.expect("type password");
    client
        .find(Locator::Css("form[action='/login'] button[type=submit]"))
        .await
        .expect("submit")
        .click()
        .await
        .expect("click sign in");
    wait_until(
        client,
        "the signed-in page",
        Duration::from_secs(20),
        |c| async move {
            c.current_url()
                .await
                .map(|u| !u.path().starts_with("/login"))
                .unwrap_or(false)
        },
    )
    .await;
}

/// Removes this test's containers (by name prefix, managed by brise only) on drop.
pub struct Containers {
    pub prefix: String,
}

impl Containers {
    fn ids(&self) -> Vec<String> {
        let list = brise::command::Invocation::new("docker").args([
            "ps".to_owned(),
            "-aq".to_owned(),
            "--filter".to_owned(),
            format!("name=^{}", self.prefix),
            "--filter".to_owned(),
            "label=brise.managed=true".to_owned(),
        ]);
        brise::command::run(&list)
            .map(|out| out.stdout.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

impl Drop for Containers {
    fn drop(&mut self) {
        let ids = self.ids();
        if !ids.is_empty() {
            let remove = brise::command::Invocation::new("docker")
                .args(["rm", "-f"])
                .args(ids);
            let _ = brise::command::run(&remove);
        }
    }
}

pub async fn click(client: &fantoccini::Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no `{css}`: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click `{css}`: {e}"));
}

pub async fn type_into(client: &fantoccini::Client, css: &str, text: &str) {
    let field = client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no `{css}`: {e}"));
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

pub async fn has(client: &fantoccini::Client, css: &str) -> bool {
    client.find(Locator::Css(css)).await.is_ok()
}

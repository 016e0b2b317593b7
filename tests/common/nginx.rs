//! A private nginx for tests: its own configuration tree under a test root
//! (`<root>/etc/nginx/nginx.conf`, including `<root>/etc/nginx/web.d/*.conf`
//! in a server on a random 127.0.0.1 port), started and stopped by PID.
//! Never touches the system nginx.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The nginx binary tests use (`BRISE_TEST_NGINX` or `/usr/sbin/nginx`).
/// Fails the test when absent: a real-engine test never passes silently.
pub(crate) fn binary() -> PathBuf {
    let path = std::env::var_os("BRISE_TEST_NGINX")
        .map_or_else(|| PathBuf::from("/usr/sbin/nginx"), PathBuf::from);
    assert!(
        path.is_file(),
        "nginx is required for this test: `{}` not found (run scripts/setup-test-env.sh)",
        path.display()
    );
    path
}

/// The nginx binary when present, else `nginx` (tests that do not need nginx).
pub(crate) fn binary_or_default() -> PathBuf {
    let path = PathBuf::from("/usr/sbin/nginx");
    if path.is_file() {
        path
    } else {
        PathBuf::from("nginx")
    }
}

/// A free TCP port on 127.0.0.1 (the listener is closed before use).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A private nginx configuration tree under `root`.
#[derive(Debug)]
pub(crate) struct Nginx {
    pub(crate) root: PathBuf,
    pub(crate) port: u16,
    pub(crate) conf: PathBuf,
    started: bool,
}

impl Nginx {
    /// Write `<root>/etc/nginx/nginx.conf` (not started).
    pub(crate) fn configure(root: &Path) -> Self {
        let port = free_port();
        let etc = root.join("etc/nginx");
        std::fs::create_dir_all(etc.join("web.d")).unwrap();
        let run = root.join("run");
        std::fs::create_dir_all(&run).unwrap();
        let conf = etc.join("nginx.conf");
        let r = root.display();
        let text = format!(
            "worker_processes 1;\n\
             error_log {r}/run/error.log notice;\n\
             pid {r}/run/nginx.pid;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n\
             \x20   access_log off;\n\
             \x20   client_body_temp_path {r}/run/body;\n\
             \x20   proxy_temp_path {r}/run/proxy;\n\
             \x20   fastcgi_temp_path {r}/run/fastcgi;\n\
             \x20   uwsgi_temp_path {r}/run/uwsgi;\n\
             \x20   scgi_temp_path {r}/run/scgi;\n\
             \x20   server {{\n\
             \x20       listen 127.0.0.1:{port};\n\
             \x20       location = /brise-test-alive {{ return 200 \"alive\\n\"; }}\n\
             \x20       include {r}/etc/nginx/web.d/*.conf;\n\
             \x20   }}\n\
             }}\n"
        );
        let mut file = std::fs::File::create(&conf).unwrap();
        file.write_all(text.as_bytes()).unwrap();
        Self {
            root: root.to_owned(),
            port,
            conf,
            started: false,
        }
    }

    /// Start the master process and wait until it answers.
    pub(crate) fn start(&mut self) {
        let start = brise::command::Invocation::new(binary())
            .arg("-c")
            .arg(&self.conf);
        brise::command::run(&start).unwrap();
        self.started = true;
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.get("/brise-test-alive").is_none() {
            assert!(Instant::now() < deadline, "nginx does not answer");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.root.join("run/nginx.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// How many times the master was told to reload (`nginx -s reload`
    /// sends SIGHUP; the error log at level `notice` records each one).
    pub(crate) fn reloads(&self) -> usize {
        std::fs::read_to_string(self.root.join("run/error.log"))
            .unwrap_or_default()
            .matches("signal 1 (SIGHUP) received")
            .count()
    }

    /// Wait until every worker of an earlier configuration has exited: after a
    /// reload an old worker may still accept a connection for a moment and
    /// answer it with the old configuration (the master logs each exit).
    pub(crate) fn wait_for_old_workers(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = std::fs::read_to_string(self.root.join("run/error.log")).unwrap_or_default();
            let reloads = log.matches("signal 1 (SIGHUP) received").count();
            let exited = log.matches(" exited with code ").count();
            if exited >= reloads {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nginx's old workers never exited ({reloads} reloads, {exited} exits)"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `GET path` → (status line, body), `None` when nothing answers.
    pub(crate) fn get(&self, path: &str) -> Option<(String, String)> {
        http_get(self.port, path)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if !self.started {
            return;
        }
        if let Some(pid) = self.pid() {
            // Only the master this test started, by its PID.
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
            let deadline = Instant::now() + Duration::from_secs(10);
            while nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// A plain HTTP/1.0 GET on 127.0.0.1.
pub(crate) fn http_get(port: u16, path: &str) -> Option<(String, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_owned(), body.to_owned()))
}

/// A tiny HTTP backend on 127.0.0.1:`port` answering every request with
/// `body`; runs until the test process ends.
pub(crate) fn backend(port: u16, body: &'static str) {
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buffer = [0_u8; 4096];
            let _ = stream.read(&mut buffer);
            let request = String::from_utf8_lossy(&buffer);
            let path = request.split_whitespace().nth(1).unwrap_or("?").to_owned();
            let reply = format!("{body} {path}\n");
            let _ = write!(
                stream,
                "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
}

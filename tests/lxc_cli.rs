//! `brise reconfigure` and `brise status` as an administrator runs them on a
//! configuration with a `technology: lxc` container: the real binary, the
//! shipped dictionaries and templates, a values file, real liblxc with the
//! server defaults of docs/lxc.md (`/var/lib/lxc`, the image store under
//! `/var/lib/brise/lxc`, the bridge `brisebr0`, the nftables table
//! `ip brise`). The container is liblxc's busybox template running busybox's
//! httpd on a shared directory, published on 127.0.0.1: converged, a second
//! run changes nothing, `brise status` lists it, it is removed once no longer
//! declared. The hidden `--scope` keeps each run to this test's container
//! (Docker and LXC are shared with other tests).
//!
//! These tests run one at a time (a lock under /tmp) and leave the machine as
//! found: their container, its rules, and the bridge, table and prepared
//! images they created when nothing else uses them.
//! `#[ignore = "needs lxc"]`: they must run as root with Debian's `lxc` and
//! `busybox-static`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod engine_cli;

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use brise::command::{self, Invocation, Output};
use brise::runtime::lxc::{
    DEFAULT_BRIDGE, DEFAULT_IMAGES, DEFAULT_LXCPATH, DEFAULT_NFT_TABLE, image, nat,
};
use nix::fcntl::{Flock, FlockArg};

const LOCK: &str = "/tmp/brise-lxc-cli-tests.lock";

fn bridge_exists() -> bool {
    Path::new("/sys/class/net").join(DEFAULT_BRIDGE).exists()
}

/// `nft list table ip brise`, when the table exists.
fn nft_table() -> Option<String> {
    let output =
        command::output(&Invocation::new("nft").args(["list", "table", "ip", DEFAULT_NFT_TABLE]))
            .unwrap();
    output.status.success().then_some(output.stdout)
}

fn image_entries() -> BTreeSet<PathBuf> {
    std::fs::read_dir(DEFAULT_IMAGES)
        .map(|entries| entries.flatten().map(|entry| entry.path()).collect())
        .unwrap_or_default()
}

/// The `config` files of every LXC container of the server.
fn lxc_configs() -> Vec<String> {
    std::fs::read_dir(DEFAULT_LXCPATH)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|entry| std::fs::read_to_string(entry.path().join("config")).ok())
                .collect()
        })
        .unwrap_or_default()
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET /` on 127.0.0.1:`port`; the response, or the error.
fn http_get(port: u16) -> Result<String, std::io::Error> {
    let mut stream =
        TcpStream::connect_timeout(&(Ipv4Addr::LOCALHOST, port).into(), Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}

/// busybox's httpd in a just-started container may need a moment to listen.
fn http_get_eventually(port: u16) -> String {
    let mut last = String::new();
    for _ in 0..50 {
        match http_get(port) {
            Ok(response) if response.starts_with("HTTP/1") => return response,
            Ok(other) => last = other,
            Err(error) => last = error.to_string(),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("nothing answered on 127.0.0.1:{port}: {last}");
}

/// `lxc-info -s -p` of container `name` under the server's LXC path.
fn lxc_info(name: &str) -> String {
    let output = command::output(
        &Invocation::new("lxc-info")
            .arg("-P")
            .arg(DEFAULT_LXCPATH)
            .args(["-n", name, "-s", "-p"]),
    )
    .unwrap();
    format!("{}{}", output.stdout, output.stderr)
}

#[track_caller]
fn success(output: &Output) -> &str {
    assert!(
        output.status.success(),
        "{}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        output.stdout,
        output.stderr
    );
    &output.stdout
}

/// One administrator's server: a values file, the state and generated files
/// in a temporary directory; the LXC container on the real engine.
struct Site {
    _lock: Flock<File>,
    dir: tempfile::TempDir,
    /// The container's name (and the `--scope` prefix).
    name: String,
    /// Served by the container from its shared directory.
    www: tempfile::TempDir,
    port: u16,
    bridge_existed: bool,
    table_existed: bool,
    images_before: BTreeSet<PathBuf>,
}

impl Site {
    fn new(what: &str) -> Self {
        assert!(
            nix::unistd::geteuid().is_root(),
            "needs lxc: brise runs privileged LXC containers and must run as root"
        );
        assert!(
            Path::new(image::BUSYBOX_TEMPLATE).is_file(),
            "needs lxc: `{}` is missing (Debian package `lxc`)",
            image::BUSYBOX_TEMPLATE
        );
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(LOCK)
            .unwrap();
        let lock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, errno)| errno)
            .unwrap();
        let name = format!(
            "brise-t-lxccli-{what}-{}-{:04x}",
            std::process::id(),
            rand::random::<u16>()
        );
        let www = tempfile::Builder::new()
            .prefix("brise-t-lxccli-www-")
            .tempdir()
            .unwrap();
        brise::output::atomic::write(
            &www.path().join("index.html"),
            format!("served by {name}\n").as_bytes(),
            None,
        )
        .unwrap();
        let site = Self {
            _lock: lock,
            dir: tempfile::Builder::new()
                .prefix("brise-t-lxccli-")
                .tempdir()
                .unwrap(),
            name,
            www,
            port: free_port(),
            bridge_existed: bridge_exists(),
            table_existed: nft_table().is_some(),
            images_before: image_entries(),
        };
        site.declare(true);
        site
    }

    /// Write the values file: the container declared, or no container at all.
    fn declare(&self, declared: bool) {
        self.declare_with(declared, "");
    }

    /// Write the values file, with `extra` lines in the container's family.
    fn declare_with(&self, declared: bool, extra: &str) {
        let text = if declared {
            format!(
                "containers:
  names:
    - {name}
  container_{identifier}:
    technology: lxc
    repository: busybox
    command: httpd -f -p 8080 -h /srv
    stop_timeout: 5
    shared_dirs:
      - host_dir: {www}
        container_dir: /srv
    ports:
      - container_port: 8080
        host_port: {port}
{extra}",
                name = self.name,
                identifier = self.name.replace(['-', '.'], "_"),
                www = self.www.path().display(),
                port = self.port,
            )
        } else {
            "containers:\n  names: []\n".to_owned()
        };
        engine_cli::write_values(self.dir.path(), &text);
    }

    fn brise(&self, args: &[&str]) -> Output {
        engine_cli::run(self.dir.path(), args)
    }

    fn reconfigure(&self, extra: &[&str]) -> Output {
        let root = self.dir.path().join("root");
        let mut args = vec![
            "reconfigure",
            "--root",
            root.to_str().unwrap(),
            "--scope",
            &self.name,
        ];
        args.extend_from_slice(extra);
        self.brise(&args)
    }

    fn container_dir(&self) -> PathBuf {
        Path::new(DEFAULT_LXCPATH).join(&self.name)
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        // Whatever a failing test left: its container and rules, never others'.
        if self.container_dir().exists() {
            let lxc = |tool: &str| {
                Invocation::new(tool)
                    .arg("-P")
                    .arg(DEFAULT_LXCPATH)
                    .args(["-n", &self.name])
            };
            let _ = command::output(&lxc("lxc-stop").arg("-k"));
            let _ = command::output(&lxc("lxc-destroy").arg("-s"));
        }
        if let Err(error) = nat::remove(DEFAULT_NFT_TABLE, &self.name) {
            eprintln!("could not remove the test container's rules: {error}");
        }
        // What this test created and nothing else uses now.
        let configs = lxc_configs();
        for entry in image_entries().difference(&self.images_before) {
            let path = entry.to_string_lossy();
            if !configs.iter().any(|config| config.contains(&*path)) {
                let _ = std::fs::remove_dir_all(entry);
            }
        }
        if !self.table_existed
            && nft_table().is_some_and(|table| !table.contains(&nat::comment("")))
            && let Err(error) = nat::delete_table(DEFAULT_NFT_TABLE)
        {
            eprintln!("could not delete the nftables table the test created: {error}");
        }
        let members = Path::new("/sys/class/net")
            .join(DEFAULT_BRIDGE)
            .join("brif");
        let unused = std::fs::read_dir(&members).is_ok_and(|mut entries| entries.next().is_none());
        if !self.bridge_existed
            && unused
            && let Err(error) = brise::runtime::lxc::network::remove_bridge(DEFAULT_BRIDGE)
        {
            eprintln!("could not remove the bridge the test created: {error}");
        }
    }
}

// See: #8 (LXC through the real binary)
#[test]
#[ignore = "needs lxc"]
fn reconfigure_converges_an_lxc_container_changes_nothing_twice_shows_it_and_removes_it() {
    let site = Site::new("web");

    // 0. A dry run plans the creation and changes nothing.
    let dry = site.reconfigure(&["--dry-run", "--json"]);
    let plan: serde_json::Value = serde_json::from_str(success(&dry)).unwrap();
    assert_eq!(plan["containers"]["entries"][0]["name"], site.name.as_str());
    assert_eq!(plan["containers"]["entries"][0]["action"], "create");
    assert!(!site.container_dir().exists());

    // 1. Converged: created from the busybox template, started, published on 127.0.0.1.
    let first = site.reconfigure(&[]);
    assert!(
        success(&first).contains(&format!("create     {}: done", site.name)),
        "{}",
        first.stdout
    );
    assert!(site.container_dir().join("brise.json").is_file());
    let info = lxc_info(&site.name);
    assert!(info.contains("RUNNING"), "{info}");
    let response = http_get_eventually(site.port);
    assert!(
        response.contains(&format!("served by {}", site.name)),
        "{response}"
    );
    assert!(
        !nat::rules_of(DEFAULT_NFT_TABLE, &site.name)
            .unwrap()
            .is_empty()
    );
    assert!(site.dir.path().join("values.applied.yml").exists());

    // 2. A second run changes nothing: the same process still runs.
    let second = site.reconfigure(&[]);
    assert!(
        success(&second).contains("nothing to do: 1 container as declared"),
        "{}",
        second.stdout
    );
    assert_eq!(lxc_info(&site.name), info);

    // 3. `brise status` lists it with its engine, state and port.
    let status = site.brise(&["status"]);
    let shown = success(&status);
    assert!(shown.starts_with("values: applied\n"), "{shown}");
    assert!(shown.contains("engine: lxc "), "{shown}");
    let line = shown
        .lines()
        .find(|line| line.starts_with(&site.name))
        .unwrap_or_else(|| panic!("{} not in:\n{shown}", site.name));
    assert!(
        line.contains(" lxc ")
            && line.contains("running")
            && line.contains(&format!("127.0.0.1:{}->8080", site.port)),
        "{line}"
    );
    let json: serde_json::Value =
        serde_json::from_str(success(&site.brise(&["status", "--json"]))).unwrap();
    let container = json["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|container| container["name"] == site.name.as_str())
        .unwrap();
    assert_eq!(
        (container["engine"].as_str(), container["state"].as_str()),
        (Some("lxc"), Some("running"))
    );

    // 4. No longer declared: removed, with its rules; its shared directory stays.
    site.declare(false);
    let third = site.reconfigure(&[]);
    assert!(
        success(&third).contains(&format!("remove     {}: done", site.name)),
        "{}",
        third.stdout
    );
    assert!(!site.container_dir().exists());
    assert!(
        nat::rules_of(DEFAULT_NFT_TABLE, &site.name)
            .unwrap()
            .is_empty()
    );
    assert!(http_get(site.port).is_err());
    assert!(site.www.path().join("index.html").is_file());
    let status = site.brise(&["status"]);
    assert!(!success(&status).contains(&site.name), "{}", status.stdout);
}

// See: #8 (LXC through the real binary)
#[test]
#[ignore = "needs lxc"]
fn reconfigure_refuses_what_lxc_cannot_run_before_changing_anything() {
    let site = Site::new("tag");
    site.declare_with(true, "    tag: \"1.36\"\n");
    let refused = site.reconfigure(&[]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert_eq!(
        refused.stderr.trim_end(),
        format!(
            "brise: container `{}`: the `busybox` LXC template has no tags: leave the tag \
             empty (not `1.36`)\nnothing was changed",
            site.name
        )
    );
    assert!(!site.container_dir().exists());
    assert!(!site.dir.path().join("values.applied.yml").exists());
    assert_eq!(bridge_exists(), site.bridge_existed);
}

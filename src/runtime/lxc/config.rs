//! A declared container as LXC sees it, pure: the configuration items liblxc
//! gets for it ([`items`]), how it is launched ([`Launch`]), and brise's
//! ownership record written beside its `config` ([`Record`], `brise.json`),
//! which is the marker telling brise's containers from foreign ones. No I/O.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::image::{Image, Kind};
use crate::containers::{ContainerSpec, PortMapping, RestartPolicy};
use crate::runtime::Labels;

/// The ownership record's file name, in the container's directory.
pub const RECORD_FILE: &str = "brise.json";
/// The ownership record's format version.
pub const RECORD_VERSION: u32 = 1;
/// The upper (writable) layer of an ephemeral container, in its directory.
pub const UPPER_DIR: &str = "delta0";
/// overlayfs' work directory liblxc puts beside the upper layer.
pub const WORK_DIR: &str = "work";
/// The root filesystem of a persistent container, in its directory.
pub const ROOTFS_DIR: &str = "rootfs";
/// liblxc's log of the container, in its directory.
pub const LOG_FILE: &str = "lxc.log";
/// The container's console output, in its directory.
pub const CONSOLE_LOG_FILE: &str = "console.log";

/// How brise starts a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Launch {
    /// liblxc's init (`init.lxc`) is PID 1 and runs `argv` (application containers
    /// with `init: true`).
    pub use_init: bool,
    /// The command; `None` boots the system container's `/sbin/init`.
    pub argv: Option<Vec<String>>,
}

/// brise's record of a container it created (`brise.json` beside `config`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub version: u32,
    /// brise's labels, as for every engine (`brise.managed=true`, …).
    pub labels: BTreeMap<String, String>,
    /// What its root filesystem was built from.
    pub image: ImageUse,
    /// Its static address on the bridge.
    pub address: Ipv4Addr,
    pub ports: Vec<PortMapping>,
    /// `true`: overlay on the image, discarded when stopped.
    pub ephemeral: bool,
    pub launch: Launch,
}

/// The image a container was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageUse {
    pub reference: String,
    pub id: String,
    pub rootfs: PathBuf,
}

impl Record {
    /// brise's labels when the record is brise's and names this container;
    /// `None` otherwise (a foreign container, or a copy under another name).
    #[must_use]
    pub fn labels(&self, name: &str) -> Option<Labels> {
        let labels = Labels::from_map(&self.labels, name)?;
        (labels.name == name).then_some(labels)
    }
}

/// The network a container is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    pub bridge: String,
    pub address: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
    pub broadcast: Ipv4Addr,
}

/// Everything [`items`] needs besides the spec.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    /// `LXCPATH/NAME`.
    pub dir: &'a Path,
    pub image: &'a Image,
    pub network: &'a Network,
    pub ephemeral: bool,
    /// `/usr/share/lxc/config/common.conf` when the host has it (device and
    /// capability policy, seccomp profile, as LXC's own templates include).
    pub common_include: Option<&'a Path>,
}

/// What LXC cannot run as declared.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SpecError {
    #[error(
        "host address `{address}` of port {port}: LXC ports are published on IPv4 addresses only"
    )]
    Ipv6Port { address: IpAddr, port: u16 },
    #[error(
        "health checks are not supported for LXC containers: remove `healthcheck` or use `technology: docker`"
    )]
    Healthcheck,
    #[error("environment variable `{name}`: LXC cannot pass a value containing a line break")]
    EnvironmentLineBreak { name: String },
    #[error("environment variable name `{name}` is not valid")]
    EnvironmentName { name: String },
    #[error("`{path}`: a shared directory must be an absolute path")]
    RelativeMount { path: String },
    #[error("`{path}`: a shared directory cannot contain a line break")]
    MountLineBreak { path: String },
    #[error(
        "the image `{reference}` declares no command (no entrypoint, no cmd): declare `command`"
    )]
    NoCommand { reference: String },
}

/// Everything LXC cannot run as declared, found before anything changes.
#[must_use]
pub fn check(spec: &ContainerSpec) -> Vec<SpecError> {
    let mut errors = Vec::new();
    for port in &spec.ports {
        if port.host_ip.is_ipv6() {
            errors.push(SpecError::Ipv6Port {
                address: port.host_ip,
                port: port.host_port,
            });
        }
    }
    if spec.healthcheck.is_some() {
        errors.push(SpecError::Healthcheck);
    }
    for (name, value) in &spec.environment {
        if name.is_empty() || name.contains(['=', '\n', '\0']) {
            errors.push(SpecError::EnvironmentName { name: name.clone() });
        } else if value.contains(['\n', '\r']) {
            errors.push(SpecError::EnvironmentLineBreak { name: name.clone() });
        }
    }
    for mount in &spec.mounts {
        for path in [&mount.host_dir, &mount.container_dir] {
            if !path.starts_with('/') {
                errors.push(SpecError::RelativeMount { path: path.clone() });
            } else if path.contains(['\n', '\r']) {
                errors.push(SpecError::MountLineBreak { path: path.clone() });
            }
        }
    }
    errors
}

/// How the container is launched: application images and declared commands
/// run their command (through liblxc's init when `init` is on, Docker's
/// meaning of `init`); system images boot `/sbin/init`.
///
/// # Errors
/// An application image without entrypoint or command, and none declared.
pub fn launch(spec: &ContainerSpec, image: &Image) -> Result<Launch, SpecError> {
    let argv = match (image.kind, &spec.command) {
        // Docker's meaning: `command` replaces the image's cmd, keeps its entrypoint.
        (Kind::Application, Some(command)) => {
            let mut argv = image.entrypoint.clone();
            argv.extend(command.iter().cloned());
            Some(argv)
        }
        (Kind::Application, None) => {
            let mut argv = image.entrypoint.clone();
            argv.extend(image.cmd.iter().cloned());
            Some(argv)
        }
        (Kind::System, Some(command)) => Some(command.clone()),
        (Kind::System, None) => None,
    };
    match argv {
        Some(argv) if argv.is_empty() => Err(SpecError::NoCommand {
            reference: image.reference.clone(),
        }),
        Some(argv) => Ok(Launch {
            use_init: spec.init,
            argv: Some(argv),
        }),
        None => Ok(Launch {
            use_init: false,
            argv: None,
        }),
    }
}

/// A path in an `lxc.mount.entry` line, fstab-escaped (space `\040`, tab
/// `\011`, backslash `\134`), as liblxc reads it back with `getmntent`.
#[must_use]
pub fn fstab_escape(path: &str) -> String {
    let mut escaped = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            ' ' => escaped.push_str("\\040"),
            '\t' => escaped.push_str("\\011"),
            '\\' => escaped.push_str("\\134"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// A deterministic MAC address for the container (locally administered,
/// LXC's `00:16:3e` prefix), so a recreated container keeps its neighbours' ARP
/// entries valid.
#[must_use]
pub fn mac_address(name: &str) -> String {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(format!("brise-lxc-mac:{name}").as_bytes());
    let byte = |i: usize| hash.get(i).copied().unwrap_or(0);
    format!("00:16:3e:{:02x}:{:02x}:{:02x}", byte(0), byte(1), byte(2))
}

/// The liblxc configuration of `spec`, item by item, in a fixed order.
#[must_use]
pub fn items(spec: &ContainerSpec, launch: &Launch, inputs: &Inputs<'_>) -> Vec<(String, String)> {
    let mut items: Vec<(String, String)> = Vec::new();
    let mut set = |key: &str, value: String| items.push((key.to_owned(), value));
    let dir = inputs.dir;
    if let Some(common) = inputs.common_include {
        set("lxc.include", common.display().to_string());
    }
    set("lxc.uts.name", spec.name.clone());
    let rootfs = if inputs.ephemeral {
        format!(
            "overlay:{}:{}",
            inputs.image.rootfs.display(),
            dir.join(UPPER_DIR).display()
        )
    } else {
        format!("dir:{}", dir.join(ROOTFS_DIR).display())
    };
    set("lxc.rootfs.path", rootfs);
    let network = inputs.network;
    set("lxc.net.0.type", "veth".to_owned());
    set("lxc.net.0.link", network.bridge.clone());
    set("lxc.net.0.flags", "up".to_owned());
    set("lxc.net.0.name", "eth0".to_owned());
    set("lxc.net.0.hwaddr", mac_address(&spec.name));
    set(
        "lxc.net.0.ipv4.address",
        format!(
            "{}/{} {}",
            network.address, network.prefix, network.broadcast
        ),
    );
    set("lxc.net.0.ipv4.gateway", network.gateway.to_string());
    set("lxc.autodev", "1".to_owned());
    set(
        "lxc.mount.auto",
        "cgroup:mixed proc:mixed sys:mixed".to_owned(),
    );
    set(
        "lxc.mount.entry",
        "shm dev/shm tmpfs defaults,create=dir 0 0".to_owned(),
    );
    for mount in &spec.mounts {
        let target = mount.container_dir.trim_start_matches('/');
        let options = if mount.read_only {
            "bind,ro,create=dir"
        } else {
            "bind,create=dir"
        };
        set(
            "lxc.mount.entry",
            format!(
                "{} {} none {options} 0 0",
                fstab_escape(&mount.host_dir),
                fstab_escape(target)
            ),
        );
    }
    // The image's environment first, the declared one overriding it.
    let mut environment: Vec<(String, String)> = inputs
        .image
        .env
        .iter()
        .filter_map(|entry| entry.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    for (name, value) in &spec.environment {
        environment.retain(|(k, _)| k != name);
        environment.push((name.clone(), value.clone()));
    }
    for (name, value) in environment {
        set("lxc.environment", format!("{name}={value}"));
    }
    if let Some(argv) = &launch.argv {
        // For `lxc-start`/`lxc-execute` by hand; brise passes argv itself, so
        // arguments containing spaces survive.
        let key = if launch.use_init {
            "lxc.execute.cmd"
        } else {
            "lxc.init.cmd"
        };
        set(key, argv.join(" "));
        if let Some(workdir) = &inputs.image.workdir {
            set("lxc.init.cwd", workdir.clone());
        }
        // Docker's stop signal: a service stops on SIGTERM.
        set("lxc.signal.halt", "SIGTERM".to_owned());
    } else if inputs.image.reference == "busybox" {
        // busybox init halts on SIGUSR1 (liblxc's default SIGPWR reboots it).
        set("lxc.signal.halt", "SIGUSR1".to_owned());
    }
    let autostart = match spec.restart {
        RestartPolicy::Always | RestartPolicy::UnlessStopped => "1",
        RestartPolicy::No | RestartPolicy::OnFailure => "0",
    };
    set("lxc.start.auto", autostart.to_owned());
    set("lxc.log.file", dir.join(LOG_FILE).display().to_string());
    set("lxc.log.level", "WARN".to_owned());
    set(
        "lxc.console.logfile",
        dir.join(CONSOLE_LOG_FILE).display().to_string(),
    );
    items
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::containers::{Healthcheck, Mount, Protocol};
    use crate::runtime::fake::{loopback_port, spec};

    fn httpd() -> Image {
        Image {
            reference: "localhost:5000/brise-demo/httpd:2.4".to_owned(),
            id: "sha256:abc".to_owned(),
            rootfs: PathBuf::from("/var/lib/brise/lxc/images/oci-abc/rootfs"),
            kind: Kind::Application,
            entrypoint: Vec::new(),
            cmd: vec!["/bin/httpd".to_owned(), "-f".to_owned()],
            env: vec!["PATH=/bin".to_owned(), "LANG=C".to_owned()],
            workdir: Some("/srv".to_owned()),
        }
    }

    fn busybox() -> Image {
        Image {
            reference: "busybox".to_owned(),
            id: "sha256:def".to_owned(),
            rootfs: PathBuf::from("/var/lib/brise/lxc/images/busybox-def/rootfs"),
            kind: Kind::System,
            entrypoint: Vec::new(),
            cmd: Vec::new(),
            env: Vec::new(),
            workdir: None,
        }
    }

    fn network() -> Network {
        Network {
            bridge: "brisebr0".to_owned(),
            address: Ipv4Addr::new(10, 0, 213, 7),
            prefix: 24,
            gateway: Ipv4Addr::new(10, 0, 213, 1),
            broadcast: Ipv4Addr::new(10, 0, 213, 255),
        }
    }

    fn values<'a>(items: &'a [(String, String)], key: &str) -> Vec<&'a str> {
        items
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    #[test]
    fn an_ephemeral_application_container_runs_its_image_command_on_an_overlay() {
        let mut web = spec("web", "httpd:2.4");
        web.environment
            .push(("LANG".to_owned(), "fr_FR.UTF-8".to_owned()));
        web.mounts.push(Mount {
            host_dir: "/var/eole httpd".to_owned(),
            container_dir: "/usr/local/apache2/htdocs/".to_owned(),
            read_only: true,
        });
        let image = httpd();
        let launch = launch(&web, &image).unwrap();
        assert_eq!(
            launch,
            Launch {
                use_init: true,
                argv: Some(vec!["/bin/httpd".to_owned(), "-f".to_owned()]),
            }
        );
        let network = network();
        let items = items(
            &web,
            &launch,
            &Inputs {
                dir: Path::new("/var/lib/lxc/web"),
                image: &image,
                network: &network,
                ephemeral: true,
                common_include: Some(Path::new("/usr/share/lxc/config/common.conf")),
            },
        );
        assert_eq!(items[0].0, "lxc.include");
        assert_eq!(
            values(&items, "lxc.rootfs.path"),
            ["overlay:/var/lib/brise/lxc/images/oci-abc/rootfs:/var/lib/lxc/web/delta0"]
        );
        assert_eq!(
            values(&items, "lxc.net.0.ipv4.address"),
            ["10.0.213.7/24 10.0.213.255"]
        );
        assert_eq!(values(&items, "lxc.net.0.ipv4.gateway"), ["10.0.213.1"]);
        assert_eq!(
            values(&items, "lxc.environment"),
            ["PATH=/bin", "LANG=fr_FR.UTF-8"]
        );
        assert_eq!(
            values(&items, "lxc.mount.entry")[1],
            "/var/eole\\040httpd usr/local/apache2/htdocs/ none bind,ro,create=dir 0 0"
        );
        assert_eq!(values(&items, "lxc.execute.cmd"), ["/bin/httpd -f"]);
        assert_eq!(values(&items, "lxc.init.cwd"), ["/srv"]);
        assert_eq!(values(&items, "lxc.signal.halt"), ["SIGTERM"]);
        assert_eq!(values(&items, "lxc.start.auto"), ["1"]);
        assert_eq!(values(&items, "lxc.log.file"), ["/var/lib/lxc/web/lxc.log"]);
    }

    #[test]
    fn a_persistent_system_container_boots_init_on_its_own_directory() {
        let mut box_ = spec("box", "busybox");
        box_.persistent = true;
        box_.init = true;
        box_.restart = RestartPolicy::No;
        let image = busybox();
        let launch = launch(&box_, &image).unwrap();
        assert_eq!(
            launch,
            Launch {
                use_init: false,
                argv: None
            }
        );
        let network = network();
        let items = items(
            &box_,
            &launch,
            &Inputs {
                dir: Path::new("/var/lib/lxc/box"),
                image: &image,
                network: &network,
                ephemeral: false,
                common_include: None,
            },
        );
        assert_eq!(
            values(&items, "lxc.rootfs.path"),
            ["dir:/var/lib/lxc/box/rootfs"]
        );
        assert!(values(&items, "lxc.include").is_empty());
        assert!(values(&items, "lxc.init.cmd").is_empty());
        assert_eq!(values(&items, "lxc.signal.halt"), ["SIGUSR1"]);
        assert_eq!(values(&items, "lxc.start.auto"), ["0"]);
    }

    #[test]
    fn a_declared_command_replaces_the_image_cmd_and_keeps_its_entrypoint() {
        let mut web = spec("web", "httpd:2.4");
        web.command = Some(vec!["-p".to_owned(), "8080".to_owned()]);
        web.init = false;
        let mut image = httpd();
        image.entrypoint = vec!["/bin/httpd".to_owned()];
        assert_eq!(
            launch(&web, &image).unwrap(),
            Launch {
                use_init: false,
                argv: Some(vec![
                    "/bin/httpd".to_owned(),
                    "-p".to_owned(),
                    "8080".to_owned()
                ]),
            }
        );
        image.entrypoint.clear();
        image.cmd.clear();
        web.command = None;
        assert_eq!(
            launch(&web, &image).unwrap_err(),
            SpecError::NoCommand {
                reference: "localhost:5000/brise-demo/httpd:2.4".to_owned()
            }
        );
    }

    #[test]
    fn what_lxc_cannot_run_is_reported_all_at_once() {
        let mut web = spec("web", "httpd:2.4");
        web.ports.push(PortMapping {
            container_port: 80,
            host_port: 8081,
            protocol: Protocol::Tcp,
            host_ip: IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        });
        web.ports.push(loopback_port(443, 8443));
        web.healthcheck = Some(Healthcheck {
            command: "true".to_owned(),
            interval_seconds: 5,
        });
        web.environment
            .push(("A".to_owned(), "one\ntwo".to_owned()));
        web.mounts.push(Mount {
            host_dir: "relative".to_owned(),
            container_dir: "/data".to_owned(),
            read_only: false,
        });
        let errors: Vec<String> = check(&web).iter().map(ToString::to_string).collect();
        assert_eq!(
            errors,
            [
                "host address `::1` of port 8081: LXC ports are published on IPv4 addresses only",
                "health checks are not supported for LXC containers: remove `healthcheck` or use `technology: docker`",
                "environment variable `A`: LXC cannot pass a value containing a line break",
                "`relative`: a shared directory must be an absolute path",
            ]
        );
        assert!(check(&spec("ok", "httpd:2.4")).is_empty());
    }

    #[test]
    fn the_mac_address_is_stable_and_local() {
        assert_eq!(mac_address("web"), mac_address("web"));
        assert_ne!(mac_address("web"), mac_address("db"));
        assert!(mac_address("web").starts_with("00:16:3e:"));
        assert_eq!(mac_address("web").len(), 17);
    }

    #[test]
    fn a_record_is_brise_s_only_under_the_name_it_was_written_for() {
        let web = spec("web", "httpd:2.4");
        let labels = Labels::for_spec(&web, Some("sha256:abc"));
        let record = Record {
            version: RECORD_VERSION,
            labels: labels.to_map(),
            image: ImageUse {
                reference: "r".to_owned(),
                id: "sha256:abc".to_owned(),
                rootfs: PathBuf::from("/x"),
            },
            address: Ipv4Addr::new(10, 0, 213, 7),
            ports: Vec::new(),
            ephemeral: true,
            launch: Launch {
                use_init: false,
                argv: None,
            },
        };
        assert_eq!(record.labels("web"), Some(labels));
        assert_eq!(record.labels("copy-of-web"), None);
        let mut unmanaged = record;
        unmanaged.labels.remove(crate::runtime::labels::MANAGED);
        assert_eq!(unmanaged.labels("web"), None);
    }
}

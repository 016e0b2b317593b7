//! [`LxcRuntime`]: the [`Runtime`] trait over LXC, so the same planner drives
//! `technology: lxc` containers. Every liblxc call runs in a single-threaded
//! helper process (`brise lxc-helper`, [`helper`]) spoken to over a typed pipe
//! protocol ([`protocol`], [`client`]); the FFI is confined to `ffi.rs`. Images
//! are LXC templates or OCI images ([`image`]); a container's directory holds
//! `brise.json` ([`config::Record`]), the ownership marker without which a
//! container is foreign and never touched. Ephemeral containers are overlays
//! on their image, discarded when stopped; persistent ones own a directory
//! rootfs, snapshotted before an explicit recreate. Ports are nftables DNAT
//! rules ([`nat`]) to a static address on brise's bridge ([`network`]).
//! No liblxc type leaves this module.

pub mod client;
pub mod config;
mod ffi;
pub mod helper;
pub mod image;
pub mod nat;
pub mod network;
pub mod protocol;

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use thiserror::Error;

use self::client::{ClientError, HelperCommand, HelperPool};
use self::config::{ImageUse, Launch, Record};
use self::image::{Image, ImageError, Prepared, Source, Store};
use self::nat::NatError;
use self::network::{Bridge, NetworkError};
use self::protocol::{ContainerInfo, Request, Response};
use super::{
    ContainerState, EngineInfo, Labels, ObservedContainer, PullEvent, PullProgress, Recreated,
    Runtime, RuntimeError, Step, image_reference, registry_name,
};
use crate::command::{self, CommandError, Invocation};
use crate::containers::{ContainerSpec, ImageRef};
use crate::output::atomic::{self, AtomicError};

/// Where LXC keeps containers by default (so `lxc-ls`, `lxc-attach` see them).
pub const DEFAULT_LXCPATH: &str = "/var/lib/lxc";
/// brise's prepared LXC images.
pub const DEFAULT_IMAGES: &str = "/var/lib/brise/lxc/images";
/// Where `local` root filesystem tarballs are looked for.
pub const DEFAULT_LOCAL_IMAGES: &str = "/var/lib/brise/lxc/local";
/// brise's bridge for LXC containers.
pub const DEFAULT_BRIDGE: &str = "brisebr0";
/// Its subnet (the bridge is `.1`).
pub const DEFAULT_SUBNET: &str = "10.0.213.0/24";
/// brise's nftables table (`table ip brise`).
pub const DEFAULT_NFT_TABLE: &str = "brise";
/// LXC's own configuration shared by its templates.
pub const COMMON_CONF: &str = "/usr/share/lxc/config/common.conf";

/// Quick questions to the helper.
const QUICK: Duration = Duration::from_secs(30);
/// A template building a root filesystem.
const TEMPLATE: Duration = Duration::from_secs(600);
/// Starting a container (liblxc waits until it runs).
const START: Duration = Duration::from_secs(120);
/// Snapshots and destruction copy or remove whole filesystems.
const FILESYSTEM: Duration = Duration::from_secs(3600);
/// Beyond a container's stop timeout, before the helper is deemed stuck.
const STOP_MARGIN: Duration = Duration::from_secs(60);

/// Where and how the LXC runtime works.
#[derive(Debug, Clone)]
pub struct LxcConfig {
    /// The LXC path of brise's containers.
    pub lxcpath: PathBuf,
    /// The image store.
    pub images: PathBuf,
    /// Where `local` tarballs are looked for.
    pub local_images: PathBuf,
    pub bridge: Bridge,
    /// nftables table (family `ip`) holding the port rules.
    pub nft_table: String,
    /// The program serving the helper protocol (`brise lxc-helper`).
    pub helper: HelperCommand,
}

impl LxcConfig {
    /// The defaults of a server, the helper being `brise` at `program`.
    #[must_use]
    pub fn system(program: PathBuf) -> Self {
        Self {
            lxcpath: PathBuf::from(DEFAULT_LXCPATH),
            images: PathBuf::from(DEFAULT_IMAGES),
            local_images: PathBuf::from(DEFAULT_LOCAL_IMAGES),
            bridge: Bridge {
                name: DEFAULT_BRIDGE.to_owned(),
                subnet: DEFAULT_SUBNET
                    .parse()
                    .unwrap_or_else(|_| ipnet::Ipv4Net::default()),
            },
            nft_table: DEFAULT_NFT_TABLE.to_owned(),
            helper: HelperCommand::brise(program),
        }
    }
}

/// What went wrong inside the LXC runtime (turned into [`RuntimeError`]s at
/// the trait's boundary).
#[derive(Debug, Error)]
pub enum LxcError {
    #[error(transparent)]
    Helper(#[from] ClientError),
    #[error("liblxc: {message}{}", log_text(.log))]
    Liblxc { message: String, log: Vec<String> },
    #[error("the lxc helper answered `{op}` with an unexpected {answer}")]
    Unexpected { op: &'static str, answer: String },
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Network(#[from] NetworkError),
    #[error(transparent)]
    Nat(#[from] NatError),
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error(transparent)]
    Write(#[from] AtomicError),
    #[error("cannot create `{path}`: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot remove `{path}`: {source}")]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Refused(String),
    #[error("a blocking task failed: {0}")]
    Join(String),
}

fn log_text(log: &[String]) -> String {
    if log.is_empty() {
        String::new()
    } else {
        format!("; liblxc's log:\n  {}", log.join("\n  "))
    }
}

/// The LXC engine.
#[derive(Debug)]
pub struct LxcRuntime {
    config: LxcConfig,
    pool: HelperPool,
    store: Store,
    /// One image preparation at a time (two pulls of one image share the work).
    images: tokio::sync::Mutex<()>,
    /// Address allocation and container creation, one at a time.
    creation: tokio::sync::Mutex<()>,
}

/// Run blocking work (commands, filesystem) off the async threads.
async fn blocking<T, F>(work: F) -> Result<T, LxcError>
where
    F: FnOnce() -> Result<T, LxcError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| LxcError::Join(error.to_string()))?
}

/// liblxc's state names → brise's.
fn state_of(lxc_state: &str) -> ContainerState {
    match lxc_state {
        "RUNNING" | "THAWED" => ContainerState::Running,
        "STARTING" => ContainerState::Restarting,
        "FROZEN" | "FREEZING" => ContainerState::Paused,
        _ => ContainerState::Stopped,
    }
}

fn remove_path(path: &Path) -> Result<(), LxcError> {
    let result = if path.is_dir() && !path.is_symlink() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    match result {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(LxcError::Remove {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Empty a directory (creating it when missing): an ephemeral container's
/// upper layer and overlayfs' work directory.
fn empty_dir(dir: &Path) -> Result<(), LxcError> {
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries {
                let entry = entry.map_err(|source| LxcError::Read {
                    path: dir.to_owned(),
                    source,
                })?;
                remove_path(&entry.path())?;
            }
            Ok(())
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => make_dir(dir),
        Err(source) => Err(LxcError::Read {
            path: dir.to_owned(),
            source,
        }),
    }
}

fn make_dir(dir: &Path) -> Result<(), LxcError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
        .map_err(|source| LxcError::CreateDir {
            path: dir.to_owned(),
            source,
        })
}

/// Remove everything of a container's directory but its snapshots (and the
/// directory itself when nothing else is left).
fn clear_container_dir(dir: &Path) -> Result<(), LxcError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(LxcError::Read {
                path: dir.to_owned(),
                source,
            });
        }
    };
    let mut kept = false;
    for entry in entries {
        let entry = entry.map_err(|source| LxcError::Read {
            path: dir.to_owned(),
            source,
        })?;
        if entry.file_name() == "snaps" {
            kept = true;
        } else {
            remove_path(&entry.path())?;
        }
    }
    if !kept {
        remove_path(dir)?;
    }
    Ok(())
}

impl LxcRuntime {
    /// A runtime working under `config`; nothing is touched until it is used.
    #[must_use]
    pub fn new(config: LxcConfig) -> Self {
        let store = Store {
            dir: config.images.clone(),
            local_dir: config.local_images.clone(),
        };
        Self {
            pool: HelperPool::new(config.helper.clone()),
            store,
            config,
            images: tokio::sync::Mutex::new(()),
            creation: tokio::sync::Mutex::new(()),
        }
    }

    #[must_use]
    pub fn config(&self) -> &LxcConfig {
        &self.config
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.config.lxcpath.join(name)
    }

    fn record_path(&self, name: &str) -> PathBuf {
        self.dir(name).join(config::RECORD_FILE)
    }

    /// brise's record of container `name`; `None` when there is none or it is
    /// unreadable (then the container is treated as foreign: never touched).
    fn record(&self, name: &str) -> Option<Record> {
        let bytes = std::fs::read(self.record_path(name)).ok()?;
        let record: Record = serde_json::from_slice(&bytes).ok()?;
        (record.version == config::RECORD_VERSION).then_some(record)
    }

    fn write_record(&self, name: &str, record: &Record) -> Result<(), LxcError> {
        let bytes = serde_json::to_vec_pretty(record)
            .map_err(|error| LxcError::Refused(format!("cannot encode the record: {error}")))?;
        atomic::write(
            &self.record_path(name),
            &bytes,
            Some(atomic::FileAttributes {
                uid: nix::unistd::geteuid().as_raw(),
                gid: nix::unistd::getegid().as_raw(),
                mode: 0o640,
            }),
        )?;
        Ok(())
    }

    async fn call(&self, request: Request, timeout: Duration) -> Result<Response, LxcError> {
        match self.pool.call(&request, timeout).await? {
            Response::Failed { message, log } => Err(LxcError::Liblxc { message, log }),
            response => Ok(response),
        }
    }

    fn unexpected(op: &'static str, response: &Response) -> LxcError {
        LxcError::Unexpected {
            op,
            answer: format!("{response:?}"),
        }
    }

    /// liblxc's view of container `name`; `None` when it is not defined.
    async fn info(&self, name: &str) -> Result<Option<ContainerInfo>, LxcError> {
        let request = Request::State {
            lxcpath: self.config.lxcpath.clone(),
            name: name.to_owned(),
        };
        match self.call(request, QUICK).await? {
            Response::State { info } => Ok(info),
            other => Err(Self::unexpected("state", &other)),
        }
    }

    /// Container `name`'s record, when it is defined and brise's; otherwise
    /// the error a mutating step reports.
    async fn managed(
        &self,
        name: &str,
        step: Step,
    ) -> Result<(ContainerInfo, Record), RuntimeError> {
        let info = self
            .info(name)
            .await
            .map_err(|e| RuntimeError::container(name, step, e))?
            .ok_or_else(|| RuntimeError::container(name, step, "no such LXC container"))?;
        match self.record(name) {
            Some(record) if record.labels(name).is_some() => Ok((info, record)),
            Some(_) | None => Err(RuntimeError::Foreign {
                name: name.to_owned(),
            }),
        }
    }

    fn observed(info: &ContainerInfo, record: Option<&Record>) -> ObservedContainer {
        let labels = record.and_then(|r| r.labels(&info.name));
        let managed = labels.is_some();
        ObservedContainer {
            name: info.name.clone(),
            id: info.name.clone(),
            image_id: record.filter(|_| managed).map(|r| r.image.id.clone()),
            ports: record
                .filter(|_| managed)
                .map(|r| r.ports.clone())
                .unwrap_or_default(),
            labels,
            state: state_of(&info.state),
            started_at: None,
        }
    }

    /// The image `source` names, prepared (pulled, unpacked, built) if needed.
    async fn prepare_image(&self, source: &Source) -> Result<Image, LxcError> {
        let _one_at_a_time = self.images.lock().await;
        let store = self.store.clone();
        let wanted = source.clone();
        let prepared = blocking(move || store.prepare(&wanted).map_err(LxcError::from)).await?;
        match prepared {
            Prepared::Ready(image) => Ok(image),
            Prepared::NeedsBusyboxTemplate { lxcpath, name, id } => {
                let request = Request::CreateFromTemplate {
                    lxcpath,
                    name: name.clone(),
                    template: "busybox".to_owned(),
                    args: Vec::new(),
                };
                self.call(request, TEMPLATE).await?;
                let store = self.store.clone();
                blocking(move || store.finish_busybox(&name, &id).map_err(LxcError::from)).await
            }
        }
    }

    /// The image a container is to be created from: the one prepared last
    /// for its reference, prepared now when missing.
    async fn image_for(&self, source: &Source) -> Result<Image, LxcError> {
        let store = self.store.clone();
        let wanted = source.clone();
        let local = blocking(move || store.local(&wanted).map_err(LxcError::from)).await?;
        match local {
            Some(image) => Ok(image),
            None => self.prepare_image(source).await,
        }
    }

    /// The addresses the other containers of the LXC path hold.
    fn taken_addresses(&self, except: &str) -> Result<BTreeSet<Ipv4Addr>, LxcError> {
        let lxcpath = &self.config.lxcpath;
        let entries = match std::fs::read_dir(lxcpath) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(BTreeSet::new());
            }
            Err(source) => {
                return Err(LxcError::Read {
                    path: lxcpath.clone(),
                    source,
                });
            }
        };
        let mut taken = BTreeSet::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == except {
                continue;
            }
            if let Some(record) = self.record(&name) {
                taken.insert(record.address);
            }
        }
        Ok(taken)
    }

    /// The bridge, `route_localnet` when needed, and the container's DNAT rules.
    async fn ensure_network(&self, name: &str, record: &Record) -> Result<(), LxcError> {
        let bridge = self.config.bridge.clone();
        let table = self.config.nft_table.clone();
        let name = name.to_owned();
        let address = record.address;
        let ports = record.ports.clone();
        blocking(move || {
            network::ensure_bridge(&bridge)?;
            if nat::needs_route_localnet(&ports) {
                network::enable_route_localnet(&bridge.name)?;
            }
            let rules = nat::rules(&bridge.name, &name, address, &ports)?;
            nat::apply(&table, &name, &rules)?;
            Ok(())
        })
        .await
    }

    async fn remove_rules(&self, name: &str) -> Result<(), LxcError> {
        let table = self.config.nft_table.clone();
        let name = name.to_owned();
        blocking(move || nat::remove(&table, &name).map_err(LxcError::from)).await
    }

    async fn create_container(
        &self,
        spec: &ContainerSpec,
        labels: &Labels,
    ) -> Result<(), LxcError> {
        let name = spec.name.as_str();
        let problems = config::check(spec);
        if !problems.is_empty() {
            let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
            return Err(LxcError::Refused(text.join("; ")));
        }
        let source = Source::of(&spec.image).map_err(ImageError::from)?;
        let image = self.image_for(&source).await?;
        let launch = config::launch(spec, &image).map_err(|e| LxcError::Refused(e.to_string()))?;
        let _one_at_a_time = self.creation.lock().await;
        if let Some(info) = self.info(name).await? {
            let owner = if self.record(&info.name).is_some() {
                "brise"
            } else {
                "something else"
            };
            return Err(LxcError::Refused(format!(
                "an LXC container named `{name}` already exists (created by {owner})"
            )));
        }
        let taken = self.taken_addresses(name)?;
        let address = network::allocate(&self.config.bridge, name, &taken)?;
        let dir = self.dir(name);
        let ephemeral = !spec.persistent;
        let record = Record {
            version: config::RECORD_VERSION,
            labels: labels.to_map(),
            image: ImageUse {
                reference: image.reference.clone(),
                id: image.id.clone(),
                rootfs: image.rootfs.clone(),
            },
            address,
            ports: spec.ports.clone(),
            ephemeral,
            launch: launch.clone(),
        };
        make_dir(&dir)?;
        let built = self
            .build_container(spec, &image, &launch, &record, &dir)
            .await;
        if let Err(error) = built {
            // Nothing of a half-built container stays behind (its snapshots do).
            let _ = self.remove_rules(name).await;
            let cleanup = dir.clone();
            let _ = blocking(move || clear_container_dir(&cleanup)).await;
            return Err(error);
        }
        Ok(())
    }

    async fn build_container(
        &self,
        spec: &ContainerSpec,
        image: &Image,
        launch: &Launch,
        record: &Record,
        dir: &Path,
    ) -> Result<(), LxcError> {
        let name = spec.name.as_str();
        // The marker first: from here on the directory is brise's to clean up.
        self.write_record(name, record)?;
        let common = Path::new(COMMON_CONF);
        let network = self.config.bridge.network(record.address);
        let items = config::items(
            spec,
            launch,
            &config::Inputs {
                dir,
                image,
                network: &network,
                ephemeral: record.ephemeral,
                common_include: common.is_file().then_some(common),
            },
        );
        let request = Request::Define {
            lxcpath: self.config.lxcpath.clone(),
            name: name.to_owned(),
            items,
        };
        self.call(request, QUICK).await?;
        let dir = dir.to_owned();
        let base = image.rootfs.clone();
        let ephemeral = record.ephemeral;
        blocking(move || {
            if ephemeral {
                empty_dir(&dir.join(config::UPPER_DIR))
            } else {
                let rootfs = dir.join(config::ROOTFS_DIR);
                make_dir(&rootfs)?;
                // A private copy of the image: the persistent container's own filesystem.
                let mut from = base.into_os_string();
                from.push("/.");
                command::run(
                    &Invocation::new("cp")
                        .args(["-a", "--reflink=auto"])
                        .arg(from)
                        .arg(&rootfs),
                )?;
                Ok(())
            }
        })
        .await?;
        self.ensure_network(name, record).await
    }

    async fn stop_container(
        &self,
        name: &str,
        record: &Record,
        timeout_seconds: u32,
        discard: bool,
    ) -> Result<(), LxcError> {
        let request = Request::Stop {
            lxcpath: self.config.lxcpath.clone(),
            name: name.to_owned(),
            timeout_seconds,
        };
        self.call(
            request,
            Duration::from_secs(u64::from(timeout_seconds)) + STOP_MARGIN,
        )
        .await?;
        if discard && record.ephemeral {
            self.discard_changes(name).await?;
        }
        Ok(())
    }

    /// Throw an ephemeral container's changes away (it is stopped).
    async fn discard_changes(&self, name: &str) -> Result<(), LxcError> {
        let dir = self.dir(name);
        blocking(move || {
            empty_dir(&dir.join(config::UPPER_DIR))?;
            empty_dir(&dir.join(config::WORK_DIR))
        })
        .await
    }

    async fn snapshots(&self, name: &str) -> Result<Vec<String>, LxcError> {
        let request = Request::Snapshots {
            lxcpath: self.config.lxcpath.clone(),
            name: name.to_owned(),
        };
        match self.call(request, QUICK).await? {
            Response::Snapshots { snapshots } => {
                Ok(snapshots.into_iter().map(|s| s.name).collect())
            }
            other => Err(Self::unexpected("snapshots", &other)),
        }
    }

    async fn snapshot(&self, name: &str, stamp: &str) -> Result<String, LxcError> {
        let request = Request::Snapshot {
            lxcpath: self.config.lxcpath.clone(),
            name: name.to_owned(),
            comment: format!("brise: `{name}` before it was recreated ({stamp})\n"),
        };
        match self.call(request, FILESYSTEM).await? {
            Response::Snapshot { name: snapshot } => Ok(format!("{name}/{snapshot}")),
            other => Err(Self::unexpected("snapshot", &other)),
        }
    }

    /// Remove a stopped container's configuration, filesystem, record and
    /// rules, keeping its snapshots.
    async fn tear_down(&self, name: &str) -> Result<(), LxcError> {
        self.remove_rules(name).await?;
        if self.snapshots(name).await?.is_empty() {
            let request = Request::Destroy {
                lxcpath: self.config.lxcpath.clone(),
                name: name.to_owned(),
            };
            self.call(request, FILESYSTEM).await?;
        }
        let dir = self.dir(name);
        blocking(move || clear_container_dir(&dir)).await
    }

    /// The lines liblxc logged for container `name` (its last `lines`).
    ///
    /// # Errors
    /// The log exists but cannot be read.
    pub fn log_tail(&self, name: &str, lines: usize) -> Result<Vec<String>, LxcError> {
        let mut all = Vec::new();
        for file in [config::LOG_FILE, config::CONSOLE_LOG_FILE] {
            let path = self.dir(name).join(file);
            match std::fs::read(&path) {
                Ok(bytes) => all.extend(
                    String::from_utf8_lossy(&bytes)
                        .lines()
                        .filter(|l| !l.trim().is_empty())
                        .map(|l| format!("{file}: {l}")),
                ),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(LxcError::Read { path, source }),
            }
        }
        let skip = all.len().saturating_sub(lines);
        Ok(all.into_iter().skip(skip).collect())
    }
}

fn pull_error(image: &ImageRef, error: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::Pull {
        image: image_reference(image),
        registry: registry_name(image),
        detail: error.to_string(),
    }
}

#[async_trait]
impl Runtime for LxcRuntime {
    fn kind(&self) -> &'static str {
        "lxc"
    }

    async fn ping(&self) -> Result<EngineInfo, RuntimeError> {
        let unreachable = |detail: String| RuntimeError::EngineUnreachable {
            kind: "lxc".to_owned(),
            endpoint: self.config.lxcpath.display().to_string(),
            detail,
        };
        match self.call(Request::Version, QUICK).await {
            Ok(Response::Version { version }) => Ok(EngineInfo {
                kind: "lxc".to_owned(),
                version,
                api_version: None,
                endpoint: self.config.lxcpath.display().to_string(),
            }),
            Ok(other) => Err(unreachable(Self::unexpected("version", &other).to_string())),
            Err(error) => Err(unreachable(error.to_string())),
        }
    }

    async fn list_managed(&self) -> Result<Vec<ObservedContainer>, RuntimeError> {
        let list_error = |detail: String| RuntimeError::List {
            kind: "lxc".to_owned(),
            detail,
        };
        if !self.config.lxcpath.is_dir() {
            return Ok(Vec::new());
        }
        let request = Request::List {
            lxcpath: self.config.lxcpath.clone(),
        };
        let containers = match self.call(request, QUICK).await {
            Ok(Response::Containers { containers }) => containers,
            Ok(other) => return Err(list_error(Self::unexpected("list", &other).to_string())),
            Err(error) => return Err(list_error(error.to_string())),
        };
        Ok(containers
            .iter()
            .filter_map(|info| {
                let record = self.record(&info.name)?;
                let observed = Self::observed(info, Some(&record));
                observed.is_managed().then_some(observed)
            })
            .collect())
    }

    async fn inspect(&self, name: &str) -> Result<Option<ObservedContainer>, RuntimeError> {
        if !self.config.lxcpath.is_dir() {
            return Ok(None);
        }
        let info = self
            .info(name)
            .await
            .map_err(|e| RuntimeError::container(name, Step::Inspect, e))?;
        Ok(info.map(|info| Self::observed(&info, self.record(name).as_ref())))
    }

    async fn local_image(&self, image: &ImageRef) -> Result<Option<String>, RuntimeError> {
        let source = Source::of(image).map_err(|e| pull_error(image, e))?;
        let store = self.store.clone();
        let local = blocking(move || store.local(&source).map_err(LxcError::from))
            .await
            .map_err(|e| pull_error(image, e))?;
        Ok(local.map(|image| image.id))
    }

    async fn pull(
        &self,
        image: &ImageRef,
        progress: &dyn PullProgress,
    ) -> Result<String, RuntimeError> {
        let source = Source::of(image).map_err(|e| pull_error(image, e))?;
        let reference = image_reference(image);
        progress.pull_event(&PullEvent {
            image: reference.clone(),
            layer: None,
            status: format!("Preparing LXC image {}", source.reference()),
            current: None,
            total: None,
        });
        let prepared = self
            .prepare_image(&source)
            .await
            .map_err(|e| pull_error(image, e))?;
        progress.pull_event(&PullEvent {
            image: reference,
            layer: None,
            status: format!("Digest: {}", prepared.id),
            current: None,
            total: None,
        });
        Ok(prepared.id)
    }

    async fn create(&self, spec: &ContainerSpec, labels: &Labels) -> Result<String, RuntimeError> {
        self.create_container(spec, labels)
            .await
            .map_err(|e| RuntimeError::container(&spec.name, Step::Create, e))?;
        Ok(spec.name.clone())
    }

    async fn start(&self, name: &str) -> Result<(), RuntimeError> {
        let (info, record) = self.managed(name, Step::Start).await?;
        let fail = |e: LxcError| RuntimeError::container(name, Step::Start, e);
        // After a reboot the bridge and the rules are gone: restore them.
        self.ensure_network(name, &record).await.map_err(fail)?;
        if state_of(&info.state).is_up() {
            return Ok(());
        }
        if record.ephemeral {
            // Always from the image: whatever a previous run left is discarded.
            self.discard_changes(name).await.map_err(fail)?;
        }
        let request = Request::Start {
            lxcpath: self.config.lxcpath.clone(),
            name: name.to_owned(),
            use_init: record.launch.use_init,
            argv: record.launch.argv.clone(),
        };
        self.call(request, START).await.map_err(fail)?;
        Ok(())
    }

    async fn stop(&self, name: &str, timeout_seconds: u32) -> Result<(), RuntimeError> {
        let (_, record) = self.managed(name, Step::Stop).await?;
        self.stop_container(name, &record, timeout_seconds, true)
            .await
            .map_err(|e| RuntimeError::container(name, Step::Stop, e))
    }

    async fn remove(&self, name: &str) -> Result<(), RuntimeError> {
        let (_, record) = self.managed(name, Step::Remove).await?;
        let fail = |e: LxcError| RuntimeError::container(name, Step::Remove, e);
        self.stop_container(name, &record, 0, false)
            .await
            .map_err(fail)?;
        let snapshots = self.snapshots(name).await.map_err(fail)?;
        if !snapshots.is_empty() {
            return Err(fail(LxcError::Refused(format!(
                "it has snapshots ({}) that removing it would destroy: restore or delete them \
                 first (`lxc-snapshot -P {} -n {name} -L`)",
                snapshots.join(", "),
                self.config.lxcpath.display()
            ))));
        }
        self.tear_down(name).await.map_err(fail)
    }

    async fn backup(&self, name: &str, stamp: &str) -> Result<String, RuntimeError> {
        self.managed(name, Step::Backup).await?;
        self.snapshot(name, stamp)
            .await
            .map_err(|e| RuntimeError::container(name, Step::Backup, e))
    }

    /// In place: stop, snapshot when asked (the snapshot stays in the
    /// container's directory, so the container is never destroyed whole),
    /// replace configuration and filesystem, start.
    async fn recreate(
        &self,
        spec: &ContainerSpec,
        labels: &Labels,
        backup_stamp: Option<&str>,
    ) -> Result<Recreated, RuntimeError> {
        let name = spec.name.as_str();
        let (_, record) = self.managed(name, Step::Stop).await?;
        // Changes of an ephemeral container are kept until the snapshot is taken.
        self.stop_container(name, &record, spec.stop_timeout, backup_stamp.is_none())
            .await
            .map_err(|e| RuntimeError::container(name, Step::Stop, e))?;
        let backup = match backup_stamp {
            Some(stamp) => Some(
                self.snapshot(name, stamp)
                    .await
                    .map_err(|e| RuntimeError::container(name, Step::Backup, e))?,
            ),
            None => None,
        };
        self.tear_down(name)
            .await
            .map_err(|e| RuntimeError::container(name, Step::Remove, e))?;
        self.create(spec, labels).await?;
        self.start(name).await?;
        Ok(Recreated { backup })
    }
}

/// What LXC cannot run among `desired` (its `technology: lxc` containers),
/// as `container `NAME`: problem` lines, found before anything changes.
#[must_use]
pub fn check_specs(desired: &[ContainerSpec]) -> Vec<String> {
    let mut problems = Vec::new();
    for spec in desired
        .iter()
        .filter(|s| s.technology == crate::containers::Technology::Lxc)
    {
        if let Err(error) = Source::of(&spec.image) {
            problems.push(format!("container `{}`: {error}", spec.name));
        }
        for problem in config::check(spec) {
            problems.push(format!("container `{}`: {problem}", spec.name));
        }
    }
    problems
}

/// The LXC runtime of this machine, its helper being this very program.
///
/// # Errors
/// The path of the running program cannot be found.
pub fn system_runtime() -> Result<Arc<LxcRuntime>, LxcError> {
    let program = std::env::current_exe().map_err(|source| LxcError::Read {
        path: PathBuf::from("/proc/self/exe"),
        source,
    })?;
    Ok(Arc::new(LxcRuntime::new(LxcConfig::system(program))))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::reconcile::{Action, Options, Reason, plan};
    use crate::runtime::fake::spec;

    #[test]
    fn only_lxc_containers_are_checked_for_what_lxc_cannot_run() {
        let mut docker = spec("web", "httpd:2.4");
        docker.healthcheck = Some(crate::containers::Healthcheck {
            command: "true".to_owned(),
            interval_seconds: 5,
        });
        let mut lxc = docker.clone();
        lxc.name = "box".to_owned();
        lxc.technology = crate::containers::Technology::Lxc;
        lxc.image.registry = None;
        lxc.image.repository = "httpd".to_owned();
        let problems = check_specs(&[docker, lxc]);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0]
                .starts_with("container `box`: image `httpd`: an LXC container without a registry")
        );
        assert!(problems[1].starts_with("container `box`: health checks are not supported"));
    }

    #[test]
    fn liblxc_states_map_to_brise_states() {
        assert_eq!(state_of("RUNNING"), ContainerState::Running);
        assert_eq!(state_of("STOPPED"), ContainerState::Stopped);
        assert_eq!(state_of("ABORTING"), ContainerState::Stopped);
        assert_eq!(state_of("FROZEN"), ContainerState::Paused);
        assert!(state_of("STARTING").is_up());
    }

    #[test]
    fn a_stopped_lxc_container_is_planned_to_start() {
        let web = spec("web", "httpd:2.4");
        let observed = ObservedContainer {
            name: "web".to_owned(),
            id: "web".to_owned(),
            labels: Some(Labels::for_spec(&web, None)),
            image_id: None,
            state: ContainerState::Stopped,
            started_at: None,
            ports: Vec::new(),
        };
        let plan = plan(&[web], &[observed], &BTreeMap::new(), &Options::default());
        let entry = plan.entry("web").unwrap();
        assert_eq!(entry.action, Action::Start);
        assert_eq!(
            entry.reasons,
            [Reason::NotRunning {
                state: ContainerState::Stopped
            }]
        );
        assert_eq!(entry.reasons[0].to_string(), "not running (stopped)");
    }

    #[test]
    fn clearing_a_container_directory_keeps_its_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        let web = dir.path().join("web");
        make_dir(&web.join("snaps/snap0")).unwrap();
        make_dir(&web.join("rootfs/etc")).unwrap();
        atomic::write(&web.join("config"), b"lxc.uts.name = web\n", None).unwrap();
        clear_container_dir(&web).unwrap();
        let left: Vec<String> = std::fs::read_dir(&web)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, ["snaps"]);
        let db = dir.path().join("db");
        make_dir(&db.join("delta0")).unwrap();
        clear_container_dir(&db).unwrap();
        assert!(!db.exists());
        clear_container_dir(&db).unwrap();
    }

    #[test]
    fn emptying_the_upper_layer_removes_everything_in_it() {
        let dir = tempfile::tempdir().unwrap();
        let upper = dir.path().join("delta0");
        make_dir(&upper.join("etc/deep")).unwrap();
        atomic::write(&upper.join("etc/deep/file"), b"x", None).unwrap();
        std::os::unix::fs::symlink("/etc", upper.join("link")).unwrap();
        empty_dir(&upper).unwrap();
        assert_eq!(std::fs::read_dir(&upper).unwrap().count(), 0);
        assert!(Path::new("/etc").is_dir());
        let missing = dir.path().join("work");
        empty_dir(&missing).unwrap();
        assert!(missing.is_dir());
    }

    #[test]
    fn a_liblxc_failure_shows_its_log_lines() {
        let error = LxcError::Liblxc {
            message: "start failed".to_owned(),
            log: vec![
                "ERROR start - Failed to exec \"/nonexistent\"".to_owned(),
                "ERROR start - Failed to spawn container".to_owned(),
            ],
        };
        assert_eq!(
            error.to_string(),
            "liblxc: start failed; liblxc's log:\n  ERROR start - Failed to exec \"/nonexistent\"\n  ERROR start - Failed to spawn container"
        );
    }
}

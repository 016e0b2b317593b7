//! Where an LXC container's root filesystem comes from. A declared image is
//! an LXC template available offline (`busybox`, built with liblxc's
//! `lxc-busybox` template; `local`, a rootfs tarball named by the tag) or,
//! when a registry is declared, an OCI image copied with skopeo and unpacked
//! with umoci (what `lxc-create -t oci` does), so Docker's images serve LXC
//! too. Each prepared image is a read-only base directory in the image store,
//! described by an `image.json` ([`Image`]) recording what it was built from;
//! its id (the OCI config digest, like Docker's image id, or a sha256 of the
//! template inputs or of the tarball) decides when a container must be
//! recreated. [`Source::of`] is pure; [`Store`] does the I/O.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::command::{self, CommandError, Invocation};
use crate::containers::ImageRef;
use crate::output::atomic::{self, AtomicError};

/// The LXC template that builds a busybox system container offline.
pub const BUSYBOX_TEMPLATE: &str = "/usr/share/lxc/templates/lxc-busybox";
/// Version of the recipe brise applies on top of what it unpacks; part of
/// every image id so that a change of recipe recreates containers.
const RECIPE: &str = "brise-lxc-image-v1";
/// File extensions tried for a `local` tarball named by its tag.
const TARBALL_EXTENSIONS: [&str; 5] = ["", ".tar.xz", ".tar.gz", ".tgz", ".tar"];

/// What a declared image names, for LXC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// liblxc's `busybox` template (needs `busybox-static`).
    Busybox,
    /// A root filesystem tarball `LOCAL_DIR/<name>[.tar.xz|.tar.gz|.tgz|.tar]`.
    Local { name: String },
    /// An OCI image `registry/repository:tag`.
    Oci {
        /// `registry/repository`, without tag.
        repository: String,
        /// `latest` when none is declared.
        tag: String,
        /// Registries on this machine are reached without TLS, as Docker does.
        tls_verify: bool,
    },
}

/// Why a declared image cannot be used for LXC (pure checks).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SourceError {
    #[error(
        "image `{repository}`: an LXC container without a registry names an LXC template, \
         `busybox` or `local` (a root filesystem tarball named by the tag); declare a registry \
         (`docker.io` for Docker Hub) to use an OCI image"
    )]
    UnknownTemplate { repository: String },
    #[error("the `busybox` LXC template has no tags: leave the tag empty (not `{tag}`)")]
    BusyboxTag { tag: String },
    #[error("the `local` LXC template needs the name of a root filesystem tarball as its tag")]
    LocalWithoutTag,
    #[error("`local` image `{name}`: a tarball name cannot contain `/` or start with `.`")]
    LocalName { name: String },
}

impl Source {
    /// What `image` names.
    ///
    /// # Errors
    /// No registry and a repository that is not an offline template, or a
    /// tag that does not fit the template.
    pub fn of(image: &ImageRef) -> Result<Self, SourceError> {
        if let Some(registry) = image.registry.as_deref().filter(|r| !r.is_empty()) {
            let tag = if image.tag.is_empty() {
                "latest"
            } else {
                image.tag.as_str()
            };
            return Ok(Self::Oci {
                repository: format!("{registry}/{}", image.repository),
                tag: tag.to_owned(),
                tls_verify: !is_local_registry(registry),
            });
        }
        match image.repository.as_str() {
            "busybox" => {
                if image.tag.is_empty() || image.tag == "latest" {
                    Ok(Self::Busybox)
                } else {
                    Err(SourceError::BusyboxTag {
                        tag: image.tag.clone(),
                    })
                }
            }
            "local" => {
                let name = image.tag.as_str();
                if name.is_empty() || name == "latest" {
                    Err(SourceError::LocalWithoutTag)
                } else if name.contains('/') || name.starts_with('.') {
                    Err(SourceError::LocalName {
                        name: name.to_owned(),
                    })
                } else {
                    Ok(Self::Local {
                        name: name.to_owned(),
                    })
                }
            }
            other => Err(SourceError::UnknownTemplate {
                repository: other.to_owned(),
            }),
        }
    }

    /// How the source is named in `image.json` and messages.
    #[must_use]
    pub fn reference(&self) -> String {
        match self {
            Self::Busybox => "busybox".to_owned(),
            Self::Local { name } => format!("local:{name}"),
            Self::Oci {
                repository, tag, ..
            } => format!("{repository}:{tag}"),
        }
    }
}

/// `localhost`, `127.x.x.x` and `[::1]`, with or without a port.
fn is_local_registry(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        registry.split(':').next().unwrap_or(registry)
    };
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// How a container built from the image runs by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A system container: `/sbin/init` boots it.
    System,
    /// An application container: the image's entrypoint and command.
    Application,
}

/// A prepared image: what `image.json` in its directory says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// `busybox`, `local:NAME`, `registry/repository:tag`.
    pub reference: String,
    /// `sha256:…`: the OCI config digest, or a digest of the template inputs or tarball.
    pub id: String,
    /// The base root filesystem (never written to once prepared).
    pub rootfs: PathBuf,
    pub kind: Kind,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// `KEY=VALUE`, as the image declares them.
    pub env: Vec<String>,
    pub workdir: Option<String>,
}

#[derive(Debug, Error)]
pub enum ImageError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create `{path}`: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot remove `{path}`: {source}")]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write: {0}")]
    Write(#[from] AtomicError),
    #[error("`{path}` is not what was expected: {detail}")]
    Malformed { path: PathBuf, detail: String },
    #[error(
        "no `local` tarball named `{name}` in `{dir}` (tried {tried}): put the root filesystem \
         tarball there"
    )]
    NoTarball {
        name: String,
        dir: PathBuf,
        tried: String,
    },
    #[error("the `busybox` template needs `busybox` (Debian package `busybox-static`) in PATH")]
    NoBusybox,
    #[error(transparent)]
    Command(#[from] CommandError),
}

fn read_error(path: &Path) -> impl FnOnce(std::io::Error) -> ImageError + '_ {
    move |source| ImageError::Read {
        path: path.to_owned(),
        source,
    }
}

/// `sha256:<hex>` of `parts`, in order.
fn digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

/// The directory name of a prepared image: kind and 24 hex digits of its id.
fn key(prefix: &str, id: &str) -> String {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    format!("{prefix}-{}", hex.get(..24).unwrap_or(hex))
}

/// A file name for a reference (`localhost:5000/brise-demo/httpd:2.4` →
/// `localhost_5000_brise-demo_httpd_2.4-<hash>`).
fn reference_key(reference: &str) -> String {
    let clean: String = reference
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let hash = hex::encode(Sha256::digest(reference.as_bytes()));
    format!("{clean}-{}", hash.get(..12).unwrap_or(&hash))
}

/// The entrypoint, command, environment and working directory of an OCI image
/// configuration (`config` in the config blob).
#[derive(Debug, Default, Deserialize)]
struct OciConfig {
    #[serde(default)]
    config: OciProcess,
}

#[derive(Debug, Default, Deserialize)]
struct OciProcess {
    #[serde(rename = "Entrypoint", default)]
    entrypoint: Option<Vec<String>>,
    #[serde(rename = "Cmd", default)]
    cmd: Option<Vec<String>>,
    #[serde(rename = "Env", default)]
    env: Option<Vec<String>>,
    #[serde(rename = "WorkingDir", default)]
    working_dir: Option<String>,
}

/// What [`Store::prepare`] leaves to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepared {
    Ready(Image),
    /// Run liblxc's `busybox` template as container `name` under `lxcpath`
    /// (the store), then [`Store::finish_busybox`].
    NeedsBusyboxTemplate {
        lxcpath: PathBuf,
        name: String,
        id: String,
    },
}

/// The image store: `STORE/<kind>-<id>/{image.json,rootfs}`, `STORE/refs/` (the
/// id each OCI reference resolved to when last pulled), `STORE/oci/` (skopeo's
/// OCI layouts, one per reference, reused as a blob cache).
#[derive(Debug, Clone)]
pub struct Store {
    pub dir: PathBuf,
    /// Where `local` tarballs are looked for.
    pub local_dir: PathBuf,
}

impl Store {
    fn image_file(&self, key: &str) -> PathBuf {
        self.dir.join(key).join("image.json")
    }

    fn load(&self, key: &str) -> Result<Option<Image>, ImageError> {
        let path = self.image_file(key);
        match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|error| ImageError::Malformed {
                        path,
                        detail: error.to_string(),
                    })
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(ImageError::Read { path, source }),
        }
    }

    fn save(&self, key: &str, image: &Image) -> Result<(), ImageError> {
        let bytes = serde_json::to_vec_pretty(image).map_err(|error| ImageError::Malformed {
            path: self.image_file(key),
            detail: error.to_string(),
        })?;
        atomic::write(&self.image_file(key), &bytes, None)?;
        Ok(())
    }

    fn create_dir(path: &Path) -> Result<(), ImageError> {
        std::fs::create_dir_all(path).map_err(|source| ImageError::Create {
            path: path.to_owned(),
            source,
        })
    }

    /// A fresh scratch directory inside the store (same filesystem, so a
    /// finished image is moved into place with one rename).
    fn scratch(&self) -> Result<tempfile::TempDir, ImageError> {
        Self::create_dir(&self.dir)?;
        tempfile::Builder::new()
            .prefix(".brise-image-")
            .tempdir_in(&self.dir)
            .map_err(|source| ImageError::Create {
                path: self.dir.clone(),
                source,
            })
    }

    /// Move a finished image directory into place; when another run finished
    /// the same image first, keep theirs.
    fn install(&self, built: &Path, key: &str) -> Result<(), ImageError> {
        let target = self.dir.join(key);
        if self.image_file(key).is_file() {
            return Ok(());
        }
        if target.exists() {
            // A half-built leftover of an interrupted run.
            std::fs::remove_dir_all(&target).map_err(|source| ImageError::Remove {
                path: target.clone(),
                source,
            })?;
        }
        atomic::rename(built, &target)?;
        Ok(())
    }

    /// The image `source` names, if it is already prepared; contacts no registry.
    ///
    /// # Errors
    /// The store or the inputs of a template cannot be read.
    pub fn local(&self, source: &Source) -> Result<Option<Image>, ImageError> {
        match source {
            Source::Busybox => {
                let id = busybox_id()?;
                self.load(&key("busybox", &id))
            }
            Source::Local { name } => {
                let (_, id) = self.tarball(name)?;
                self.load(&key("local", &id))
            }
            Source::Oci { .. } => {
                let path = self.refs_file(&source.reference());
                let bytes = match std::fs::read(&path) {
                    Ok(bytes) => bytes,
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                        return Ok(None);
                    }
                    Err(source) => return Err(ImageError::Read { path, source }),
                };
                let refs: BTreeMap<String, String> =
                    serde_json::from_slice(&bytes).map_err(|error| ImageError::Malformed {
                        path: path.clone(),
                        detail: error.to_string(),
                    })?;
                match refs.get("id") {
                    Some(id) => self.load(&key("oci", id)),
                    None => Ok(None),
                }
            }
        }
    }

    fn refs_file(&self, reference: &str) -> PathBuf {
        self.dir
            .join("refs")
            .join(format!("{}.json", reference_key(reference)))
    }

    /// Prepare the image `source` names (pulling an OCI image again to learn
    /// whether its tag moved). A missing busybox base is not built here: it
    /// needs liblxc, so the caller runs the template into the returned place
    /// and then calls [`Store::finish_busybox`].
    ///
    /// # Errors
    /// The registry, skopeo, umoci, tar or the store failed.
    pub fn prepare(&self, source: &Source) -> Result<Prepared, ImageError> {
        match source {
            Source::Busybox => self.prepare_busybox(),
            Source::Local { name } => self.prepare_local(name).map(Prepared::Ready),
            Source::Oci {
                repository,
                tag,
                tls_verify,
            } => self
                .prepare_oci(repository, tag, *tls_verify)
                .map(Prepared::Ready),
        }
    }

    fn prepare_busybox(&self) -> Result<Prepared, ImageError> {
        let id = busybox_id()?;
        let key = key("busybox", &id);
        if let Some(image) = self.load(&key)? {
            return Ok(Prepared::Ready(image));
        }
        let base = self.dir.join(&key);
        if base.exists() {
            // A base whose build was interrupted: build it again.
            std::fs::remove_dir_all(&base).map_err(|source| ImageError::Remove {
                path: base.clone(),
                source,
            })?;
        }
        Self::create_dir(&self.dir)?;
        Ok(Prepared::NeedsBusyboxTemplate {
            lxcpath: self.dir.clone(),
            name: key,
            id,
        })
    }

    /// Record the busybox base the `busybox` template just built as `name`
    /// under the store (an LXC path), with id `id`.
    ///
    /// # Errors
    /// The template's output cannot be read or adjusted.
    pub fn finish_busybox(&self, name: &str, id: &str) -> Result<Image, ImageError> {
        let rootfs = self.dir.join(name).join("rootfs");
        // brise gives every container a static address through liblxc; the
        // template's DHCP client would flush it at boot.
        let rcs = rootfs.join("etc/init.d/rcS");
        let script = std::fs::read_to_string(&rcs).map_err(read_error(&rcs))?;
        let kept: String = script
            .lines()
            .filter(|line| !line.contains("udhcpc"))
            .map(|line| format!("{line}\n"))
            .collect();
        atomic::write(
            &rcs,
            kept.as_bytes(),
            Some(atomic::FileAttributes {
                uid: 0,
                gid: 0,
                mode: 0o744,
            }),
        )?;
        let image = Image {
            reference: Source::Busybox.reference(),
            id: id.to_owned(),
            rootfs,
            kind: Kind::System,
            entrypoint: Vec::new(),
            cmd: Vec::new(),
            env: Vec::new(),
            workdir: None,
        };
        self.save(name, &image)?;
        Ok(image)
    }

    /// The tarball a `local` image names, and its id.
    fn tarball(&self, name: &str) -> Result<(PathBuf, String), ImageError> {
        let mut tried = Vec::new();
        for extension in TARBALL_EXTENSIONS {
            let path = self.local_dir.join(format!("{name}{extension}"));
            if path.is_file() {
                let mut file = std::fs::File::open(&path).map_err(read_error(&path))?;
                let mut hasher = Sha256::new();
                hasher.update(RECIPE.as_bytes());
                let mut buffer = vec![0u8; 1 << 16];
                loop {
                    let read = file.read(&mut buffer).map_err(read_error(&path))?;
                    if read == 0 {
                        break;
                    }
                    hasher.update(buffer.get(..read).unwrap_or_default());
                }
                return Ok((path, format!("sha256:{}", hex::encode(hasher.finalize()))));
            }
            tried.push(format!("`{name}{extension}`"));
        }
        Err(ImageError::NoTarball {
            name: name.to_owned(),
            dir: self.local_dir.clone(),
            tried: tried.join(", "),
        })
    }

    fn prepare_local(&self, name: &str) -> Result<Image, ImageError> {
        let (tarball, id) = self.tarball(name)?;
        let key = key("local", &id);
        if let Some(image) = self.load(&key)? {
            return Ok(image);
        }
        let scratch = self.scratch()?;
        let built = scratch.path().join("image");
        let rootfs = built.join("rootfs");
        Self::create_dir(&rootfs)?;
        command::run(
            &Invocation::new("tar")
                .args(["--numeric-owner", "--xattrs", "-xpf"])
                .arg(&tarball)
                .arg("-C")
                .arg(&rootfs),
        )?;
        let image = Image {
            reference: Source::Local {
                name: name.to_owned(),
            }
            .reference(),
            id,
            rootfs: self.dir.join(&key).join("rootfs"),
            kind: Kind::System,
            entrypoint: Vec::new(),
            cmd: Vec::new(),
            env: Vec::new(),
            workdir: None,
        };
        let bytes = serde_json::to_vec_pretty(&image).map_err(|error| ImageError::Malformed {
            path: built.join("image.json"),
            detail: error.to_string(),
        })?;
        atomic::write(&built.join("image.json"), &bytes, None)?;
        self.install(&built, &key)?;
        Ok(image)
    }

    fn prepare_oci(
        &self,
        repository: &str,
        tag: &str,
        tls_verify: bool,
    ) -> Result<Image, ImageError> {
        let reference = format!("{repository}:{tag}");
        let (manifest, id) = resolve_manifest(repository, tag, tls_verify)?;
        let key = key("oci", &id);
        let image = match self.load(&key)? {
            Some(image) => image,
            None => {
                let layout = self.dir.join("oci").join(reference_key(&reference));
                Self::create_dir(&layout)?;
                let layout_tag = "brise";
                // The exact manifest just resolved (a moved tag cannot slip
                // in), converted to OCI for umoci.
                command::run(
                    &skopeo("copy", tls_verify, "--src-tls-verify")
                        .arg("--quiet")
                        .arg(format!("docker://{repository}@{manifest}"))
                        .arg(format!("oci:{}:{layout_tag}", layout.display())),
                )?;
                let config = read_layout_config(&layout, layout_tag)?;
                let scratch = self.scratch()?;
                let built = scratch.path().join("image");
                command::run(
                    &Invocation::new("umoci")
                        .args(["--log=error", "unpack", "--image"])
                        .arg(format!("{}:{layout_tag}", layout.display()))
                        .arg(&built),
                )?;
                let process = config.config;
                let image = Image {
                    reference: reference.clone(),
                    id: id.clone(),
                    rootfs: self.dir.join(&key).join("rootfs"),
                    kind: Kind::Application,
                    entrypoint: process.entrypoint.unwrap_or_default(),
                    cmd: process.cmd.unwrap_or_default(),
                    env: process.env.unwrap_or_default(),
                    workdir: process.working_dir.filter(|dir| !dir.is_empty()),
                };
                let bytes =
                    serde_json::to_vec_pretty(&image).map_err(|error| ImageError::Malformed {
                        path: built.join("image.json"),
                        detail: error.to_string(),
                    })?;
                atomic::write(&built.join("image.json"), &bytes, None)?;
                self.install(&built, &key)?;
                image
            }
        };
        let refs = serde_json::json!({ "reference": reference, "manifest": manifest, "id": id });
        atomic::write(
            &self.refs_file(&reference),
            refs.to_string().as_bytes(),
            None,
        )?;
        Ok(image)
    }
}

/// `skopeo VERB`, with TLS verification off (`FLAG=false`) for registries on
/// this machine.
fn skopeo(verb: &str, tls_verify: bool, flag: &str) -> Invocation {
    let invocation = Invocation::new("skopeo").arg(verb);
    if tls_verify {
        invocation
    } else {
        invocation.arg(format!("{flag}=false"))
    }
}

/// OCI's name for this machine's architecture.
fn oci_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// In a manifest list (or OCI index), the digest of the manifest for this
/// machine (linux, its architecture).
fn platform_manifest(list: &serde_json::Value) -> Option<String> {
    list["manifests"]
        .as_array()?
        .iter()
        .find(|m| {
            m["platform"]["os"] == "linux" && m["platform"]["architecture"] == oci_architecture()
        })
        .and_then(|m| m["digest"].as_str())
        .map(str::to_owned)
}

/// Ask the registry which manifest `repository:tag` names (for this
/// machine's platform) and the digest of its image configuration: the image
/// id Docker gives the same image.
fn resolve_manifest(
    repository: &str,
    tag: &str,
    tls_verify: bool,
) -> Result<(String, String), ImageError> {
    let inspect = |target: String| -> Result<(String, serde_json::Value), ImageError> {
        let output = command::run(
            &skopeo("inspect", tls_verify, "--tls-verify")
                .arg("--raw")
                .arg(format!("docker://{target}")),
        )?;
        let digest = format!(
            "sha256:{}",
            hex::encode(Sha256::digest(output.stdout.as_bytes()))
        );
        let value =
            serde_json::from_str(&output.stdout).map_err(|error| ImageError::Malformed {
                path: PathBuf::from(format!("docker://{target}")),
                detail: format!("its manifest is not JSON: {error}"),
            })?;
        Ok((digest, value))
    };
    let (mut digest, mut manifest) = inspect(format!("{repository}:{tag}"))?;
    if manifest.get("manifests").is_some() {
        let chosen = platform_manifest(&manifest).ok_or_else(|| ImageError::Malformed {
            path: PathBuf::from(format!("docker://{repository}:{tag}")),
            detail: format!("no manifest for linux/{}", oci_architecture()),
        })?;
        (_, manifest) = inspect(format!("{repository}@{chosen}"))?;
        digest = chosen;
    }
    let config = manifest["config"]["digest"]
        .as_str()
        .filter(|d| d.starts_with("sha256:"))
        .ok_or_else(|| ImageError::Malformed {
            path: PathBuf::from(format!("docker://{repository}:{tag}")),
            detail: "its manifest names no image configuration".to_owned(),
        })?;
    Ok((digest, config.to_owned()))
}

/// The configuration of the image tagged `tag` in an OCI layout.
fn read_layout_config(layout: &Path, tag: &str) -> Result<OciConfig, ImageError> {
    let malformed = |path: &Path, detail: String| ImageError::Malformed {
        path: path.to_owned(),
        detail,
    };
    let read_json = |path: &Path| -> Result<serde_json::Value, ImageError> {
        let bytes = std::fs::read(path).map_err(read_error(path))?;
        serde_json::from_slice(&bytes).map_err(|e| malformed(path, e.to_string()))
    };
    let blob = |digest: &str| -> Result<PathBuf, ImageError> {
        let hex = digest
            .strip_prefix("sha256:")
            .filter(|hex| hex.chars().all(|c| c.is_ascii_hexdigit()))
            .ok_or_else(|| malformed(layout, format!("unsupported digest `{digest}`")))?;
        Ok(layout.join("blobs").join("sha256").join(hex))
    };
    let index_path = layout.join("index.json");
    let index = read_json(&index_path)?;
    let manifest_digest = index["manifests"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .and_then(|m| m["digest"].as_str())
        .ok_or_else(|| malformed(&index_path, format!("no manifest tagged `{tag}`")))?;
    let manifest_path = blob(manifest_digest)?;
    let manifest = read_json(&manifest_path)?;
    let config_digest = manifest["config"]["digest"]
        .as_str()
        .ok_or_else(|| malformed(&manifest_path, "no config digest".to_owned()))?;
    let config_path = blob(config_digest)?;
    let bytes = std::fs::read(&config_path).map_err(read_error(&config_path))?;
    serde_json::from_slice(&bytes).map_err(|e| malformed(&config_path, e.to_string()))
}

/// `busybox` in PATH, as the template finds it.
fn busybox_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/bin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("busybox"))
        .find(|candidate| candidate.is_file())
}

/// The id of the busybox base: the template and the busybox binary it copies.
fn busybox_id() -> Result<String, ImageError> {
    let busybox = busybox_path().ok_or(ImageError::NoBusybox)?;
    let template_path = Path::new(BUSYBOX_TEMPLATE);
    let template = std::fs::read(template_path).map_err(read_error(template_path))?;
    let binary = std::fs::read(&busybox).map_err(read_error(&busybox))?;
    Ok(digest(&[RECIPE.as_bytes(), &template, &binary]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(registry: Option<&str>, repository: &str, tag: &str) -> ImageRef {
        ImageRef {
            registry: registry.map(str::to_owned),
            repository: repository.to_owned(),
            tag: tag.to_owned(),
        }
    }

    #[test]
    fn a_registry_makes_an_oci_image_without_tls_on_this_machine() {
        assert_eq!(
            Source::of(&image(Some("localhost:5000"), "brise-demo/httpd", "2.4")).unwrap(),
            Source::Oci {
                repository: "localhost:5000/brise-demo/httpd".to_owned(),
                tag: "2.4".to_owned(),
                tls_verify: false,
            }
        );
        assert_eq!(
            Source::of(&image(Some("127.0.0.1:5000"), "a", "")).unwrap(),
            Source::Oci {
                repository: "127.0.0.1:5000/a".to_owned(),
                tag: "latest".to_owned(),
                tls_verify: false,
            }
        );
        assert_eq!(
            Source::of(&image(Some("docker.io"), "library/httpd", "2.4")).unwrap(),
            Source::Oci {
                repository: "docker.io/library/httpd".to_owned(),
                tag: "2.4".to_owned(),
                tls_verify: true,
            }
        );
    }

    #[test]
    fn without_a_registry_the_repository_names_an_offline_template() {
        assert_eq!(
            Source::of(&image(None, "busybox", "")).unwrap(),
            Source::Busybox
        );
        assert_eq!(
            Source::of(&image(Some(""), "local", "debian12")).unwrap(),
            Source::Local {
                name: "debian12".to_owned()
            }
        );
        let error = Source::of(&image(None, "httpd", "2.4")).unwrap_err();
        assert!(
            error.to_string().starts_with(
                "image `httpd`: an LXC container without a registry names an LXC template"
            ),
            "{error}"
        );
        assert_eq!(
            Source::of(&image(None, "busybox", "1.36")).unwrap_err(),
            SourceError::BusyboxTag {
                tag: "1.36".to_owned()
            }
        );
        assert_eq!(
            Source::of(&image(None, "local", "")).unwrap_err(),
            SourceError::LocalWithoutTag
        );
        assert!(matches!(
            Source::of(&image(None, "local", "..")).unwrap_err(),
            SourceError::LocalName { .. }
        ));
    }

    #[test]
    fn a_manifest_list_resolves_to_this_machine_s_platform() {
        let list = serde_json::json!({
            "manifests": [
                {"digest": "sha256:arm", "platform": {"os": "linux", "architecture": "arm64"}},
                {"digest": "sha256:here", "platform": {"os": "linux", "architecture": oci_architecture()}},
                {"digest": "sha256:win", "platform": {"os": "windows", "architecture": oci_architecture()}}
            ]
        });
        assert_eq!(platform_manifest(&list).as_deref(), Some("sha256:here"));
        assert_eq!(
            platform_manifest(&serde_json::json!({"manifests": []})),
            None
        );
    }

    #[test]
    fn reference_keys_are_file_names_that_differ_per_reference() {
        let a = reference_key("localhost:5000/brise-demo/httpd:2.4");
        let b = reference_key("localhost:5000/brise-demo/httpd_2.4");
        assert!(a.starts_with("localhost_5000_brise-demo_httpd_2.4-"), "{a}");
        assert_ne!(a, b);
        assert!(!a.contains('/'));
    }

    #[test]
    fn a_local_tarball_is_unpacked_once_and_its_content_is_its_id() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        std::fs::create_dir_all(tree.join("etc")).unwrap();
        atomic::write(&tree.join("etc/hostname"), b"base\n", None).unwrap();
        let local_dir = dir.path().join("local");
        std::fs::create_dir_all(&local_dir).unwrap();
        command::run(
            &Invocation::new("tar")
                .arg("-czf")
                .arg(local_dir.join("mini.tar.gz"))
                .arg("-C")
                .arg(&tree)
                .arg("."),
        )
        .unwrap();
        let store = Store {
            dir: dir.path().join("store"),
            local_dir,
        };
        let source = Source::Local {
            name: "mini".to_owned(),
        };
        assert_eq!(store.local(&source).unwrap(), None);
        let Prepared::Ready(image) = store.prepare(&source).unwrap() else {
            panic!("a tarball needs no template");
        };
        assert_eq!(image.kind, Kind::System);
        assert_eq!(
            std::fs::read_to_string(image.rootfs.join("etc/hostname")).unwrap(),
            "base\n"
        );
        assert_eq!(store.local(&source).unwrap(), Some(image));

        let missing = Source::Local {
            name: "absent".to_owned(),
        };
        let error = store.local(&missing).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("no `local` tarball named `absent`"),
            "{error}"
        );
    }
}

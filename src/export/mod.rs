//! The declared containers exported for another orchestrator, from the same
//! desired state `reconcile` uses: a Compose file ([`compose`]) or Kubernetes
//! objects ([`kubernetes`]). Pure: takes [`ContainerSpec`]s, returns text
//! and the warnings about what does not carry over; writing is the command's.

pub mod compose;
pub mod kubernetes;

use thiserror::Error;

use crate::containers::{ContainerSpec, Technology};

/// Where the containers go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Compose,
    Kubernetes,
}

/// An export: the text to write, and what the administrator must know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub text: String,
    /// Lowercase, names in backticks.
    pub warnings: Vec<String>,
}

#[derive(Debug, Error)]
pub enum ExportError {
    #[error("cannot serialise {what}: {detail}")]
    Serialise { what: String, detail: String },
    #[error("cannot read the exported objects: {detail}")]
    Parse { detail: String },
    #[error("container `{name}` cannot be exported: {detail}")]
    Name { name: String, detail: String },
    #[error("{}", several(.0))]
    Several(Vec<Self>),
}

fn several(errors: &[ExportError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The warning for an LXC container an OCI orchestrator cannot run.
pub(crate) fn lxc_skipped(name: &str, target: &str) -> String {
    format!(
        "container `{name}` uses technology `lxc` and is not exported: {target} runs OCI images only"
    )
}

/// Export `desired` to `target`.
///
/// # Errors
/// A container cannot be expressed for the target (see each target).
pub fn export(desired: &[ContainerSpec], target: Target) -> Result<Exported, ExportError> {
    let mut exported = match target {
        Target::Compose => compose::export(desired),
        Target::Kubernetes => kubernetes::export(desired),
    }?;
    if desired
        .iter()
        .all(|spec| spec.technology == Technology::Lxc)
    {
        exported.warnings.push(
            "no Docker container is declared (see `containers.names` and the dictionaries \
             loaded): the export is empty"
                .to_owned(),
        );
    }
    Ok(exported)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::fake::spec;

    #[test]
    fn an_export_without_docker_containers_warns_that_it_is_empty() {
        let mut lxc = spec("box", "busybox");
        lxc.technology = Technology::Lxc;
        for target in [Target::Compose, Target::Kubernetes] {
            for desired in [Vec::new(), vec![lxc.clone()]] {
                let exported = export(&desired, target).unwrap();
                assert!(
                    exported
                        .warnings
                        .iter()
                        .any(|warning| warning.contains("the export is empty")),
                    "{exported:?}"
                );
            }
            let exported = export(&[spec("web", "httpd:2.4")], target).unwrap();
            assert!(exported.warnings.is_empty(), "{exported:?}");
        }
    }
}

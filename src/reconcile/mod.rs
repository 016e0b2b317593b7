//! Observe → plan → apply. [`observe`] and [`resolve_images`] ask a runtime
//! what exists; [`plan::plan`] is pure and decides, for every container,
//! create / recreate / start / stop / remove / nothing with its reason;
//! [`apply::apply`] carries the plan out through a `Runtime`. Nothing changes
//! before every check passed and every image was pulled.

pub mod apply;
pub mod plan;

use std::collections::{BTreeMap, BTreeSet};

use futures_util::stream::{self, StreamExt};
use thiserror::Error;

pub use apply::{ApplyOptions, Outcome, Refused, Report, Reporter, Silent, Status, apply};
pub use plan::{Action, Conflict, Entry, Options, Plan, Reason, plan};

use crate::containers::{ContainerSpec, ImageRef};
use crate::runtime::{
    ObservedContainer, PullProgress, Runtime, RuntimeError, host, image_reference,
};

/// Whether images are pulled from their registry or only looked up locally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Images {
    /// Pull every declared image (a real run).
    Pull,
    /// Use what is present locally, contact no registry (a dry run).
    LocalOnly,
}

/// What stops a run before anything changed.
#[derive(Debug, Error)]
pub enum PrepareError {
    /// The engine could not be asked what exists.
    #[error(transparent)]
    Observe(RuntimeError),
    /// Some images could not be pulled (all were attempted).
    #[error("{}", pulls_text(.0))]
    Pull(Vec<RuntimeError>),
}

fn pulls_text(errors: &[RuntimeError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The result of observing and planning, before anything changed.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub observed: Vec<ObservedContainer>,
    /// Image reference → image id.
    pub images: BTreeMap<String, String>,
    /// The plan, with every conflict (foreign names, persistence, host ports).
    pub plan: Plan,
}

/// The managed containers, plus any foreign container bearing a declared name.
///
/// # Errors
/// The engine cannot be listed or inspected.
pub async fn observe(
    runtime: &dyn Runtime,
    desired: &[ContainerSpec],
) -> Result<Vec<ObservedContainer>, RuntimeError> {
    let mut observed = runtime.list_managed().await?;
    let known: BTreeSet<String> = observed.iter().map(|o| o.name.clone()).collect();
    let missing: Vec<&str> = desired
        .iter()
        .map(|s| s.name.as_str())
        .filter(|name| !known.contains(*name))
        .collect();
    let found: Vec<Result<Option<ObservedContainer>, RuntimeError>> = stream::iter(missing)
        .map(|name| runtime.inspect(name))
        .buffer_unordered(8)
        .collect()
        .await;
    for result in found {
        if let Some(container) = result? {
            observed.push(container);
        }
    }
    Ok(observed)
}

/// The image id of every distinct declared image: pulled, or looked up locally.
///
/// # Errors
/// Every pull that failed (all are attempted, `parallel` at a time).
pub async fn resolve_images(
    runtime: &dyn Runtime,
    desired: &[ContainerSpec],
    images: Images,
    parallel: usize,
    progress: &dyn PullProgress,
) -> Result<BTreeMap<String, String>, Vec<RuntimeError>> {
    let mut distinct: BTreeMap<String, &ImageRef> = BTreeMap::new();
    for spec in desired {
        distinct
            .entry(image_reference(&spec.image))
            .or_insert(&spec.image);
    }
    let results: Vec<(String, Result<Option<String>, RuntimeError>)> = stream::iter(distinct)
        .map(|(reference, image)| async move {
            let result = match images {
                Images::Pull => runtime.pull(image, progress).await.map(Some),
                Images::LocalOnly => runtime.local_image(image).await,
            };
            (reference, result)
        })
        .buffer_unordered(parallel.max(1))
        .collect()
        .await;
    let mut resolved = BTreeMap::new();
    let mut errors = Vec::new();
    for (reference, result) in results {
        match result {
            Ok(Some(id)) => {
                resolved.insert(reference, id);
            }
            Ok(None) => {}
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Ok(resolved)
    } else {
        Err(errors)
    }
}

/// Observe, check host ports, resolve images and plan: everything a run does
/// before changing anything.
///
/// # Errors
/// The engine cannot be observed, or an image cannot be pulled.
pub async fn prepare(
    runtime: &dyn Runtime,
    desired: &[ContainerSpec],
    options: &Options,
    images: Images,
    parallel: usize,
    progress: &dyn PullProgress,
) -> Result<Prepared, PrepareError> {
    let observed = observe(runtime, desired)
        .await
        .map_err(PrepareError::Observe)?;
    let ports = host::ports_in_use(desired, &observed);
    let images = resolve_images(runtime, desired, images, parallel, progress)
        .await
        .map_err(PrepareError::Pull)?;
    let mut plan = plan(desired, &observed, &images, options);
    plan.conflicts
        .extend(ports.into_iter().map(Conflict::PortInUse));
    Ok(Prepared {
        observed,
        images,
        plan,
    })
}

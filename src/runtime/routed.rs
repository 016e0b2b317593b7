//! [`RoutedRuntime`]: several engines (Docker, LXC) behind the one
//! [`Runtime`] trait, so one plan and one apply drive every container
//! whatever its `technology`: host ports, dependencies and the `--fresh` /
//! `--recreate` options then span engines. A declared container goes to the
//! engine of its technology; an image is pulled by every engine whose
//! declared containers use it; an object found in another engine than its
//! declared one (the technology changed) is presented to the planner, whose
//! spec hash then differs (the technology is part of it), and a recreate
//! moves it: removed (backed up when asked) from the old engine, created in
//! the new one. Takes borrowed engines; owns only the routing tables.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;

use super::{
    EngineInfo, Labels, ObservedContainer, PullProgress, Recreated, Runtime, RuntimeError,
    image_reference,
};
use crate::containers::{ContainerSpec, ImageRef, Technology};

/// Engines by technology, and what the declared containers need of them.
pub struct RoutedRuntime<'a> {
    engines: Vec<(Technology, &'a dyn Runtime)>,
    /// Declared container name → its technology.
    declared: BTreeMap<String, Technology>,
    /// Image reference → the technologies of the declared containers using it.
    images: BTreeMap<String, Vec<Technology>>,
}

impl fmt::Debug for RoutedRuntime<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoutedRuntime")
            .field(
                "engines",
                &self
                    .engines
                    .iter()
                    .map(|(technology, engine)| (*technology, engine.kind()))
                    .collect::<Vec<_>>(),
            )
            .field("declared", &self.declared)
            .finish_non_exhaustive()
    }
}

impl<'a> RoutedRuntime<'a> {
    /// Route `desired` to `engines` (one per technology; the first is the
    /// default for objects nobody declared).
    #[must_use]
    pub fn new(engines: Vec<(Technology, &'a dyn Runtime)>, desired: &[ContainerSpec]) -> Self {
        let declared = desired
            .iter()
            .map(|spec| (spec.name.clone(), spec.technology))
            .collect();
        let mut images: BTreeMap<String, Vec<Technology>> = BTreeMap::new();
        for spec in desired {
            let users = images.entry(image_reference(&spec.image)).or_default();
            if !users.contains(&spec.technology) {
                users.push(spec.technology);
            }
        }
        Self {
            engines,
            declared,
            images,
        }
    }

    /// The technologies without an engine among the declared containers'
    /// (each with the containers needing it).
    #[must_use]
    pub fn missing_engines(&self) -> Vec<(Technology, Vec<String>)> {
        let mut missing: BTreeMap<String, (Technology, Vec<String>)> = BTreeMap::new();
        for (name, technology) in &self.declared {
            if self.engine(*technology).is_none() {
                missing
                    .entry(format!("{technology:?}"))
                    .or_insert_with(|| (*technology, Vec::new()))
                    .1
                    .push(name.clone());
            }
        }
        missing.into_values().collect()
    }

    fn engine(&self, technology: Technology) -> Option<&'a dyn Runtime> {
        self.engines
            .iter()
            .find(|(t, _)| *t == technology)
            .map(|(_, engine)| *engine)
    }

    fn no_engine(technology: Technology, what: &str) -> RuntimeError {
        RuntimeError::EngineUnreachable {
            kind: format!("{technology:?}").to_lowercase(),
            endpoint: "this machine".to_owned(),
            detail: format!("no engine is configured for it ({what})"),
        }
    }

    /// The engine of a declared container.
    fn declared_engine(&self, name: &str) -> Option<Result<&'a dyn Runtime, RuntimeError>> {
        self.declared.get(name).map(|technology| {
            self.engine(*technology)
                .ok_or_else(|| Self::no_engine(*technology, &format!("container `{name}`")))
        })
    }

    /// Every engine holding a managed object named `name`, the declared one first.
    async fn holders(&self, name: &str) -> Result<Vec<&'a dyn Runtime>, RuntimeError> {
        let mut holders = Vec::new();
        let declared = self.declared.get(name).copied();
        let mut ordered: Vec<&(Technology, &'a dyn Runtime)> = self.engines.iter().collect();
        ordered.sort_by_key(|(technology, _)| Some(*technology) != declared);
        for (_, engine) in ordered {
            if let Some(found) = engine.inspect(name).await?
                && found.is_managed()
            {
                holders.push(*engine);
            }
        }
        Ok(holders)
    }

    /// The engine to act on for an existing object: the first holder, or the
    /// declared (else default) engine, whose own error then says it is missing.
    async fn holder(&self, name: &str) -> Result<&'a dyn Runtime, RuntimeError> {
        if let Some(engine) = self.holders(name).await?.first() {
            return Ok(*engine);
        }
        match self.declared_engine(name) {
            Some(engine) => engine,
            None => self
                .engines
                .first()
                .map(|(_, engine)| *engine)
                .ok_or_else(|| Self::no_engine(Technology::Docker, "no engine at all")),
        }
    }
}

#[async_trait]
impl Runtime for RoutedRuntime<'_> {
    fn kind(&self) -> &'static str {
        match self.engines.as_slice() {
            [(_, only)] => only.kind(),
            _ => "docker+lxc",
        }
    }

    async fn ping(&self) -> Result<EngineInfo, RuntimeError> {
        let mut infos = Vec::new();
        for (_, engine) in &self.engines {
            infos.push(engine.ping().await?);
        }
        let join = |part: &dyn Fn(&EngineInfo) -> String| {
            infos.iter().map(part).collect::<Vec<_>>().join(", ")
        };
        Ok(EngineInfo {
            kind: join(&|i| i.kind.clone()),
            version: join(&|i| format!("{} {}", i.kind, i.version)),
            api_version: infos.iter().find_map(|i| i.api_version.clone()),
            endpoint: join(&|i| i.endpoint.clone()),
        })
    }

    /// Every engine's managed objects. When two engines hold one name, the
    /// one in the engine that is not the declared one comes last, so that the
    /// planner sees it (and recreates it in the right engine).
    async fn list_managed(&self) -> Result<Vec<ObservedContainer>, RuntimeError> {
        let mut matching = Vec::new();
        let mut elsewhere = Vec::new();
        for (technology, engine) in &self.engines {
            for container in engine.list_managed().await? {
                match self.declared.get(&container.name) {
                    Some(declared) if declared != technology => elsewhere.push(container),
                    Some(_) | None => matching.push(container),
                }
            }
        }
        matching.extend(elsewhere);
        Ok(matching)
    }

    async fn inspect(&self, name: &str) -> Result<Option<ObservedContainer>, RuntimeError> {
        if let Some(engine) = self.declared_engine(name) {
            return engine?.inspect(name).await;
        }
        for (_, engine) in &self.engines {
            if let Some(found) = engine.inspect(name).await? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    async fn local_image(&self, image: &ImageRef) -> Result<Option<String>, RuntimeError> {
        let users = self.images.get(&image_reference(image));
        let mut found = None;
        for (technology, engine) in &self.engines {
            if users.is_some_and(|u| !u.contains(technology)) {
                continue;
            }
            match engine.local_image(image).await? {
                // Missing in one engine that needs it: it would be pulled.
                None => return Ok(None),
                Some(id) => {
                    found.get_or_insert(id);
                }
            }
        }
        Ok(found)
    }

    async fn pull(
        &self,
        image: &ImageRef,
        progress: &dyn PullProgress,
    ) -> Result<String, RuntimeError> {
        let users = self.images.get(&image_reference(image));
        let mut id = None;
        for (technology, engine) in &self.engines {
            if users.is_some_and(|u| !u.contains(technology)) {
                continue;
            }
            let pulled = engine.pull(image, progress).await?;
            id.get_or_insert(pulled);
        }
        id.ok_or_else(|| RuntimeError::Pull {
            image: image_reference(image),
            registry: super::registry_name(image),
            detail: "no engine runs the containers using it".to_owned(),
        })
    }

    async fn create(&self, spec: &ContainerSpec, labels: &Labels) -> Result<String, RuntimeError> {
        let engine = self.engine(spec.technology).ok_or_else(|| {
            Self::no_engine(spec.technology, &format!("container `{}`", spec.name))
        })?;
        engine.create(spec, labels).await
    }

    async fn start(&self, name: &str) -> Result<(), RuntimeError> {
        self.holder(name).await?.start(name).await
    }

    async fn stop(&self, name: &str, timeout_seconds: u32) -> Result<(), RuntimeError> {
        for engine in self.holders(name).await? {
            engine.stop(name, timeout_seconds).await?;
        }
        Ok(())
    }

    async fn remove(&self, name: &str) -> Result<(), RuntimeError> {
        for engine in self.holders(name).await? {
            engine.remove(name).await?;
        }
        Ok(())
    }

    async fn backup(&self, name: &str, stamp: &str) -> Result<String, RuntimeError> {
        self.holder(name).await?.backup(name, stamp).await
    }

    /// In the declared engine, its own recreate; from another engine: stop,
    /// back up, remove there, then create and start in the declared one.
    async fn recreate(
        &self,
        spec: &ContainerSpec,
        labels: &Labels,
        backup_stamp: Option<&str>,
    ) -> Result<Recreated, RuntimeError> {
        let target = self.engine(spec.technology).ok_or_else(|| {
            Self::no_engine(spec.technology, &format!("container `{}`", spec.name))
        })?;
        let mut backup = None;
        let mut in_target = false;
        for engine in self.holders(&spec.name).await? {
            if std::ptr::addr_eq(engine, target) {
                in_target = true;
                continue;
            }
            engine.stop(&spec.name, spec.stop_timeout).await?;
            if let Some(stamp) = backup_stamp {
                backup = Some(engine.backup(&spec.name, stamp).await?);
            }
            engine.remove(&spec.name).await?;
        }
        if in_target {
            let recreated = target.recreate(spec, labels, backup_stamp).await?;
            return Ok(Recreated {
                backup: recreated.backup.or(backup),
            });
        }
        target.create(spec, labels).await?;
        target.start(&spec.name).await?;
        Ok(Recreated { backup })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::reconcile::{self, Action, ApplyOptions, Images, Options, Silent};
    use crate::runtime::NoProgress;
    use crate::runtime::fake::{Call, FakeRuntime, loopback_port, spec};

    const HTTPD: &str = "localhost:5000/brise-demo/httpd:2.4";
    const BUSYBOX: &str = "localhost:5000/brise-demo/busybox:latest";

    fn engines() -> (FakeRuntime, FakeRuntime) {
        let docker = FakeRuntime::new();
        let lxc = FakeRuntime::new();
        for engine in [&docker, &lxc] {
            engine.publish_image(HTTPD, "sha256:httpd1");
            engine.publish_image(BUSYBOX, "sha256:busybox1");
        }
        (docker, lxc)
    }

    fn lxc_spec(name: &str, image: &str) -> ContainerSpec {
        let mut spec = spec(name, image);
        spec.technology = Technology::Lxc;
        spec
    }

    async fn converge(
        routed: &RoutedRuntime<'_>,
        desired: &[ContainerSpec],
        options: &Options,
    ) -> reconcile::Plan {
        let prepared = reconcile::prepare(routed, desired, options, Images::Pull, 4, &NoProgress)
            .await
            .unwrap();
        let report = reconcile::apply(
            &prepared.plan,
            routed,
            &prepared.images,
            &ApplyOptions {
                parallel: 4,
                backup_stamp: "20261122T153000Z".to_owned(),
            },
            &Silent,
        )
        .await
        .unwrap();
        assert!(report.is_success(), "{report:#?}");
        prepared.plan
    }

    #[tokio::test]
    async fn each_container_goes_to_the_engine_of_its_technology_in_one_plan() {
        let (docker, lxc) = engines();
        let mut web = spec("web", "httpd:2.4");
        web.ports.push(loopback_port(80, 18081));
        let db = lxc_spec("db", "busybox");
        let desired = vec![web, db];
        let routed = RoutedRuntime::new(
            vec![(Technology::Docker, &docker), (Technology::Lxc, &lxc)],
            &desired,
        );
        let plan = converge(&routed, &desired, &Options::default()).await;
        assert_eq!(plan.entries.len(), 2);
        assert!(docker.container("web").is_some());
        assert!(docker.container("db").is_none());
        assert!(lxc.container("db").is_some());
        assert!(lxc.container("web").is_none());
        // Each image was pulled only where it is used.
        assert!(docker.calls().contains(&Call::Pull(HTTPD.to_owned())));
        assert!(!docker.calls().contains(&Call::Pull(BUSYBOX.to_owned())));
        assert!(lxc.calls().contains(&Call::Pull(BUSYBOX.to_owned())));

        let again = converge(&routed, &desired, &Options::default()).await;
        assert!(again.is_empty(), "{again}");
    }

    #[tokio::test]
    async fn a_container_whose_technology_changed_moves_to_the_other_engine() {
        let (docker, lxc) = engines();
        let web = spec("web", "httpd:2.4");
        let before = vec![web.clone()];
        let routed = RoutedRuntime::new(
            vec![(Technology::Docker, &docker), (Technology::Lxc, &lxc)],
            &before,
        );
        converge(&routed, &before, &Options::default()).await;

        let mut moved = web.clone();
        moved.technology = Technology::Lxc;
        let after = vec![moved];
        let routed = RoutedRuntime::new(
            vec![(Technology::Docker, &docker), (Technology::Lxc, &lxc)],
            &after,
        );
        let plan = converge(&routed, &after, &Options::default()).await;
        assert_eq!(plan.entries.len(), 1);
        assert_eq!(plan.entries[0].action, Action::Recreate);
        assert!(docker.container("web").is_none());
        assert!(lxc.container("web").is_some());
        let again = converge(&routed, &after, &Options::default()).await;
        assert!(again.is_empty(), "{again}");
    }

    #[tokio::test]
    async fn a_persistent_container_moving_engine_is_backed_up_on_request() {
        let (docker, lxc) = engines();
        let mut web = spec("web", "httpd:2.4");
        web.persistent = true;
        let routed = RoutedRuntime::new(
            vec![(Technology::Docker, &docker), (Technology::Lxc, &lxc)],
            std::slice::from_ref(&web),
        );
        converge(&routed, std::slice::from_ref(&web), &Options::default()).await;
        web.technology = Technology::Lxc;
        let after = vec![web];
        let routed = RoutedRuntime::new(
            vec![(Technology::Docker, &docker), (Technology::Lxc, &lxc)],
            &after,
        );
        let prepared = reconcile::prepare(
            &routed,
            &after,
            &Options::default(),
            Images::Pull,
            4,
            &NoProgress,
        )
        .await
        .unwrap();
        assert_eq!(prepared.plan.conflicts.len(), 1, "{}", prepared.plan);
        let options = Options {
            recreate: BTreeSet::from(["web".to_owned()]),
            ..Options::default()
        };
        converge(&routed, &after, &options).await;
        assert_eq!(docker.backups(), ["brise-backup/web:20261122T153000Z"]);
        assert!(lxc.container("web").is_some());
        assert!(docker.container("web").is_none());
    }

    #[tokio::test]
    async fn undeclared_containers_of_every_engine_are_removed_and_foreign_ones_kept() {
        let (docker, lxc) = engines();
        let desired = vec![spec("web", "httpd:2.4"), lxc_spec("db", "busybox")];
        let routed = RoutedRuntime::new(
            vec![(Technology::Docker, &docker), (Technology::Lxc, &lxc)],
            &desired,
        );
        converge(&routed, &desired, &Options::default()).await;
        lxc.add_foreign("other");
        let routed = RoutedRuntime::new(
            vec![(Technology::Docker, &docker), (Technology::Lxc, &lxc)],
            &[],
        );
        let plan = converge(&routed, &[], &Options::default()).await;
        assert_eq!(plan.entries.len(), 2);
        assert!(docker.container("web").is_none());
        assert!(lxc.container("db").is_none());
        assert!(lxc.container("other").is_some());
    }

    #[tokio::test]
    async fn a_foreign_object_in_the_declared_engine_is_a_conflict() {
        let (docker, lxc) = engines();
        lxc.add_foreign("db");
        docker.add_foreign("web");
        // `web` is declared for LXC: the foreign Docker container does not matter.
        let desired = vec![lxc_spec("db", "busybox"), lxc_spec("web", "busybox")];
        let routed = RoutedRuntime::new(
            vec![(Technology::Docker, &docker), (Technology::Lxc, &lxc)],
            &desired,
        );
        let prepared = reconcile::prepare(
            &routed,
            &desired,
            &Options::default(),
            Images::Pull,
            4,
            &NoProgress,
        )
        .await
        .unwrap();
        assert_eq!(
            prepared.plan.conflicts,
            [reconcile::Conflict::Foreign {
                name: "db".to_owned()
            }]
        );
    }

    #[tokio::test]
    async fn a_technology_without_an_engine_is_named() {
        let docker = FakeRuntime::new();
        let desired = vec![lxc_spec("db", "busybox")];
        let routed = RoutedRuntime::new(vec![(Technology::Docker, &docker)], &desired);
        assert_eq!(
            routed.missing_engines(),
            [(Technology::Lxc, vec!["db".to_owned()])]
        );
        let error = routed.inspect("db").await.unwrap_err();
        assert!(
            error
                .to_string()
                .contains("no engine is configured for it (container `db`)"),
            "{error}"
        );
    }
}

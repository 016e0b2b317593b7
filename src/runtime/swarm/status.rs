//! What `brise status` shows of a Swarm service: replicas running and
//! desired, its rolling update state, its published ports and its tasks'
//! latest errors. Built by `SwarmRuntime::services_status`; printing is pure.

use std::fmt;

use serde::Serialize;

use super::converge::{UpdateState, UpdateStatus};
use crate::containers::PortMapping;

/// Task errors shown per service, newest first.
pub const TASK_ERRORS_SHOWN: usize = 3;

/// One brise service as Swarm reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceStatus {
    pub name: String,
    /// The image its tasks run (pinned to a digest).
    pub image: Option<String>,
    /// Tasks running now.
    pub running: u64,
    /// Tasks the service should run.
    pub desired: u64,
    /// The last rolling update, if any.
    pub update: Option<UpdateStatus>,
    pub ports: Vec<PortMapping>,
    /// The latest task errors (`task 2 (failed): …`), newest first.
    pub task_errors: Vec<String>,
}

impl ServiceStatus {
    /// Every desired task runs and no update is under way or paused.
    #[must_use]
    pub fn is_healthy(&self) -> bool {
        let update_settled = match self.update.as_ref().and_then(|update| update.state) {
            None | Some(UpdateState::Completed | UpdateState::RollbackCompleted) => true,
            Some(
                UpdateState::Updating
                | UpdateState::Paused
                | UpdateState::RollbackStarted
                | UpdateState::RollbackPaused,
            ) => false,
        };
        self.running >= self.desired && update_settled
    }
}

impl fmt::Display for ServiceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<24} {}/{} running",
            self.name, self.running, self.desired
        )?;
        for port in &self.ports {
            write!(f, "  port {}->{}", port.host_port, port.container_port)?;
        }
        if let Some(update) = &self.update {
            let state = update
                .state
                .and_then(|state| serde_json::to_value(state).ok())
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_default();
            write!(f, "  update {state}")?;
            if let Some(message) = update.message.as_deref().filter(|m| !m.is_empty()) {
                write!(f, " ({message})")?;
            }
        }
        for error in &self.task_errors {
            write!(f, "\n    {error}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use crate::containers::Protocol;

    fn status() -> ServiceStatus {
        ServiceStatus {
            name: "web".to_owned(),
            image: Some("localhost:5000/brise-demo/httpd:2.4@sha256:ab".to_owned()),
            running: 1,
            desired: 2,
            update: Some(UpdateStatus {
                state: Some(UpdateState::RollbackCompleted),
                started_at: Some("t".to_owned()),
                message: Some("rollback completed".to_owned()),
            }),
            ports: vec![PortMapping {
                container_port: 80,
                host_port: 8081,
                protocol: Protocol::Tcp,
                host_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            }],
            task_errors: vec!["task 2 (failed): exec: no such file".to_owned()],
        }
    }

    #[test]
    fn a_service_status_line_shows_replicas_ports_update_and_task_errors() {
        assert_eq!(
            status().to_string(),
            "web                      1/2 running  port 8081->80  update rollback-completed \
             (rollback completed)\n    task 2 (failed): exec: no such file"
        );
    }

    #[test]
    fn a_service_missing_replicas_is_not_healthy() {
        assert!(!status().is_healthy());
        let mut full = status();
        full.running = 2;
        assert!(full.is_healthy());
        full.update = Some(UpdateStatus {
            state: Some(UpdateState::Paused),
            started_at: None,
            message: None,
        });
        assert!(!full.is_healthy());
    }
}

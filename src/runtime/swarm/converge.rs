//! Pure judgement of a service's convergence from what the engine reports:
//! its tasks ([`Task`], brise's view of a Swarm task) and its update status.
//! [`Watch`] says whether a creation, a scale or a stop has converged, is
//! still going, or is failing (tasks failing again and again, or stuck
//! pending because no node can take them); [`update_verdict`] reads a rolling
//! update's outcome. No I/O, no clock: the caller polls.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

/// New tasks that failed or were rejected before a change is given up.
pub const FAILURE_LIMIT: usize = 3;
/// Polls a task may stay pending with a scheduling error before a change is given up.
pub const PENDING_LIMIT: u32 = 10;

/// Where a task is in its life, as far as convergence cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Waiting for a node (`pending`): a scheduling problem shows here.
    Pending,
    /// Assigned, pulling, preparing or starting.
    Starting,
    Running,
    /// Exited with status 0.
    Complete,
    Failed,
    Rejected,
    /// Shut down, removed or orphaned.
    Gone,
}

/// One Swarm task, in brise's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    pub id: String,
    /// Replica slot (1-based).
    pub slot: Option<i64>,
    pub node: Option<String>,
    pub phase: Phase,
    /// The engine wants it running (not shut down).
    pub desired_running: bool,
    /// The engine's error for it (`starting container failed: …`, `no suitable node …`).
    pub error: Option<String>,
    /// The engine's last status message (`started`, `pending task scheduling`).
    pub message: Option<String>,
    /// Exit status of its container, when it exited.
    pub exit_code: Option<i64>,
    /// When its status last changed (engine's RFC 3339 text).
    pub timestamp: Option<String>,
    /// The image it runs.
    pub image: Option<String>,
}

/// What a poll says about a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Converged,
    Waiting,
    /// The change cannot converge; the engine's own words.
    Failing(String),
}

/// Follows a creation, a scale or a stop across polls: the tasks that
/// existed before the change are not counted against it.
#[derive(Debug, Clone, Default)]
pub struct Watch {
    before: HashSet<String>,
    pending_polls: HashMap<String, u32>,
}

impl Watch {
    /// Watch a change made when `before` were the service's tasks.
    #[must_use]
    pub fn new(before: &[Task]) -> Self {
        Self {
            before: before.iter().map(|task| task.id.clone()).collect(),
            pending_polls: HashMap::new(),
        }
    }

    /// Whether the service now runs exactly `desired` tasks and nothing else
    /// (right after a scale down, the engine has not yet marked the tasks to
    /// stop: they still count).
    /// A task that ran to completion (status 0) counts as converged, like a
    /// one-shot container under the Docker runtime.
    pub fn verdict(&mut self, tasks: &[Task], desired: u64) -> Verdict {
        let new: Vec<&Task> = tasks
            .iter()
            .filter(|task| !self.before.contains(&task.id))
            .collect();
        let mut failures: Vec<&Task> = new
            .iter()
            .copied()
            .filter(|task| matches!(task.phase, Phase::Failed | Phase::Rejected))
            .collect();
        if failures.len() >= FAILURE_LIMIT {
            failures.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
            let last = failures.last().copied();
            return Verdict::Failing(format!(
                "{} tasks failed; last: {}",
                failures.len(),
                last.map_or_else(|| "no error reported".to_owned(), describe)
            ));
        }
        let mut still_pending = HashMap::new();
        for task in tasks
            .iter()
            .filter(|task| task.desired_running && task.phase == Phase::Pending)
            .filter(|task| task.error.is_some())
        {
            let polls = self.pending_polls.get(&task.id).copied().unwrap_or(0) + 1;
            if polls >= PENDING_LIMIT {
                return Verdict::Failing(format!("a task cannot be scheduled: {}", describe(task)));
            }
            still_pending.insert(task.id.clone(), polls);
        }
        self.pending_polls = still_pending;
        let up: HashSet<i64> = tasks
            .iter()
            .filter(|task| {
                (task.desired_running && task.phase == Phase::Running)
                    || (!self.before.contains(&task.id) && task.phase == Phase::Complete)
            })
            .enumerate()
            .map(|(position, task)| task.slot.unwrap_or(-1 - position as i64))
            .collect();
        let leaving = tasks
            .iter()
            .any(|task| !task.desired_running && task.phase == Phase::Running);
        if up.len() as u64 == desired && !leaving {
            Verdict::Converged
        } else {
            Verdict::Waiting
        }
    }
}

/// `task 3 on node vm: failed: starting container failed: …`
#[must_use]
pub fn describe(task: &Task) -> String {
    let mut text = match task.slot {
        Some(slot) => format!("task {slot}"),
        None => format!("task {}", short(&task.id)),
    };
    let phase = serde_json::to_value(task.phase)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default();
    text.push_str(&format!(" ({phase})"));
    match (&task.error, &task.message) {
        (Some(error), _) => text.push_str(&format!(": {error}")),
        (None, Some(message)) if !message.is_empty() => text.push_str(&format!(": {message}")),
        (None, _) => {}
    }
    text
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// The most recent error among tasks that were not there before a change.
#[must_use]
pub fn last_error(tasks: &[Task], before: &[Task]) -> Option<String> {
    let before: HashSet<&str> = before.iter().map(|task| task.id.as_str()).collect();
    tasks
        .iter()
        .filter(|task| !before.contains(task.id.as_str()) && task.error.is_some())
        .max_by(|a, b| a.timestamp.cmp(&b.timestamp))
        .map(describe)
}

/// A service's rolling update status, in brise's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateState {
    Updating,
    Paused,
    Completed,
    RollbackStarted,
    RollbackPaused,
    RollbackCompleted,
}

/// The update status the engine reports for a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateStatus {
    pub state: Option<UpdateState>,
    /// When the update started; tells one update from the previous one.
    pub started_at: Option<String>,
    pub message: Option<String>,
}

/// What became of a rolling update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateVerdict {
    /// The status still describes an earlier update (or none).
    NotStarted,
    InProgress,
    Completed,
    /// Swarm rolled the service back to its previous spec.
    RolledBack(String),
    /// Swarm paused the update or its rollback: a person must look.
    Paused(String),
}

/// Read the outcome of the update started after `before` was the status.
#[must_use]
pub fn update_verdict(before: Option<&UpdateStatus>, now: Option<&UpdateStatus>) -> UpdateVerdict {
    let Some(now) = now else {
        return UpdateVerdict::NotStarted;
    };
    if before.is_some_and(|before| before.started_at == now.started_at) {
        return UpdateVerdict::NotStarted;
    }
    let message = now.message.clone().unwrap_or_default();
    match now.state {
        None => UpdateVerdict::NotStarted,
        Some(UpdateState::Updating | UpdateState::RollbackStarted) => UpdateVerdict::InProgress,
        Some(UpdateState::Completed) => UpdateVerdict::Completed,
        Some(UpdateState::RollbackCompleted) => UpdateVerdict::RolledBack(message),
        Some(UpdateState::Paused | UpdateState::RollbackPaused) => UpdateVerdict::Paused(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str, slot: i64, phase: Phase) -> Task {
        Task {
            id: id.to_owned(),
            slot: Some(slot),
            node: Some("node".to_owned()),
            phase,
            desired_running: !matches!(phase, Phase::Gone),
            error: None,
            message: None,
            exit_code: None,
            timestamp: Some(format!("2026-01-01T00:00:0{slot}Z")),
            image: None,
        }
    }

    fn failed(id: &str, slot: i64, error: &str) -> Task {
        Task {
            error: Some(error.to_owned()),
            desired_running: false,
            ..task(id, slot, Phase::Failed)
        }
    }

    #[test]
    fn a_service_converges_when_every_replica_runs() {
        let mut watch = Watch::new(&[]);
        let starting = [task("a", 1, Phase::Running), task("b", 2, Phase::Starting)];
        assert_eq!(watch.verdict(&starting, 2), Verdict::Waiting);
        let running = [task("a", 1, Phase::Running), task("b", 2, Phase::Running)];
        assert_eq!(watch.verdict(&running, 2), Verdict::Converged);
    }

    #[test]
    fn a_completed_one_shot_task_counts_as_converged() {
        let mut watch = Watch::new(&[]);
        let done = [Task {
            exit_code: Some(0),
            ..task("a", 1, Phase::Complete)
        }];
        assert_eq!(watch.verdict(&done, 1), Verdict::Converged);
    }

    #[test]
    fn a_scale_down_waits_until_the_engine_stops_the_extra_tasks() {
        let before = [task("a", 1, Phase::Running), task("b", 2, Phase::Running)];
        let mut watch = Watch::new(&before);
        assert_eq!(watch.verdict(&before, 0), Verdict::Waiting);
        assert_eq!(watch.verdict(&before, 1), Verdict::Waiting);
        let one_left = [task("a", 1, Phase::Running), task("b", 2, Phase::Gone)];
        assert_eq!(watch.verdict(&one_left, 1), Verdict::Converged);
    }

    #[test]
    fn a_stop_waits_for_running_tasks_to_leave() {
        let before = [task("a", 1, Phase::Running)];
        let mut watch = Watch::new(&before);
        let leaving = [Task {
            desired_running: false,
            ..task("a", 1, Phase::Running)
        }];
        assert_eq!(watch.verdict(&leaving, 0), Verdict::Waiting);
        assert_eq!(
            watch.verdict(&[task("a", 1, Phase::Gone)], 0),
            Verdict::Converged
        );
    }

    #[test]
    fn repeated_failures_of_new_tasks_fail_the_change_with_the_last_error() {
        let old_failure = failed("old", 1, "old trouble");
        let mut watch = Watch::new(std::slice::from_ref(&old_failure));
        let tasks = vec![
            old_failure,
            failed("x", 1, "exec: no such file"),
            failed("y", 2, "exec: no such file"),
        ];
        assert_eq!(
            watch.verdict(&tasks, 1),
            Verdict::Waiting,
            "old failures do not count"
        );
        let mut more = tasks;
        more.push(failed("z", 3, "exec: not found"));
        match watch.verdict(&more, 1) {
            Verdict::Failing(message) => {
                assert!(message.starts_with("3 tasks failed"), "{message}");
                assert!(
                    message.contains("task 3 (failed): exec: not found"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_task_stuck_pending_with_an_error_fails_the_change() {
        let mut watch = Watch::new(&[]);
        let stuck = [
            task("a", 1, Phase::Running),
            Task {
                error: Some("no suitable node (host-mode port already in use on 1 node)".into()),
                ..task("b", 2, Phase::Pending)
            },
        ];
        for _ in 1..PENDING_LIMIT {
            assert_eq!(watch.verdict(&stuck, 2), Verdict::Waiting);
        }
        match watch.verdict(&stuck, 2) {
            Verdict::Failing(message) => {
                assert!(
                    message.contains("host-mode port already in use"),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_last_error_is_the_newest_new_one() {
        let before = [failed("old", 1, "old")];
        let tasks = [
            failed("old", 1, "old"),
            failed("n1", 1, "first"),
            failed("n2", 2, "second"),
        ];
        assert_eq!(
            last_error(&tasks, &before).as_deref(),
            Some("task 2 (failed): second")
        );
        assert_eq!(last_error(&before, &before), None);
    }

    fn status(state: UpdateState, started: &str, message: &str) -> UpdateStatus {
        UpdateStatus {
            state: Some(state),
            started_at: Some(started.to_owned()),
            message: Some(message.to_owned()),
        }
    }

    #[test]
    fn an_update_status_left_by_an_earlier_update_is_not_this_one() {
        let earlier = status(UpdateState::Completed, "t1", "update completed");
        assert_eq!(
            update_verdict(Some(&earlier), Some(&earlier)),
            UpdateVerdict::NotStarted
        );
        assert_eq!(update_verdict(None, None), UpdateVerdict::NotStarted);
        let now = status(UpdateState::Updating, "t2", "update in progress");
        assert_eq!(
            update_verdict(Some(&earlier), Some(&now)),
            UpdateVerdict::InProgress
        );
        assert_eq!(update_verdict(None, Some(&now)), UpdateVerdict::InProgress);
    }

    #[test]
    fn rollbacks_and_pauses_are_reported_with_the_engine_message() {
        let rolled = status(UpdateState::RollbackCompleted, "t2", "rollback completed");
        assert_eq!(
            update_verdict(None, Some(&rolled)),
            UpdateVerdict::RolledBack("rollback completed".to_owned())
        );
        let paused = status(UpdateState::Paused, "t2", "update paused due to failure");
        assert_eq!(
            update_verdict(None, Some(&paused)),
            UpdateVerdict::Paused("update paused due to failure".to_owned())
        );
        let started = status(UpdateState::RollbackStarted, "t2", "rollback started");
        assert_eq!(
            update_verdict(None, Some(&started)),
            UpdateVerdict::InProgress
        );
        let done = status(UpdateState::Completed, "t2", "update completed");
        assert_eq!(update_verdict(None, Some(&done)), UpdateVerdict::Completed);
    }
}

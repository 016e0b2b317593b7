//! Apply: runs `reconfigure` through an [`Applier`] (the seam to the
//! reconciler), one at a time, recording the plan, the log and the final
//! status of the latest run in memory; the page shows them and a server-sent
//! events stream follows the run live. Unsaved form changes are never applied:
//! reconfigure reads the saved values.

use std::convert::Infallible;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::watch;

use super::context::SignedIn;
use super::error::Error;
use super::i18n::{self, Texts};
use super::page::{self, Chrome};
use super::{AppState, audit};

/// Runs reconfigure, writing what it does to the log: the plan first
/// ([`LogSink::plan`]), then each step ([`LogSink::log`]). An `Err` is the
/// failure shown as the final status (its `{:#}` chain).
#[async_trait::async_trait]
pub trait Applier: Send + Sync + fmt::Debug {
    async fn apply(&self, log: LogSink) -> anyhow::Result<()>;
}

/// One line of a run's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A line of the plan (what will change and why).
    Plan(String),
    /// A line of the log (what is being done).
    Log(String),
}

/// Where a run is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Running,
    Succeeded,
    Failed(String),
}

#[derive(Debug)]
struct Record {
    entries: Vec<Entry>,
    outcome: Outcome,
}

/// One apply run.
#[derive(Debug)]
pub struct Job {
    pub id: u64,
    pub user: String,
    record: Mutex<Record>,
    /// Bumped at every change, so streams wake up.
    changed: watch::Sender<u64>,
}

impl Job {
    fn new(id: u64, user: &str) -> Self {
        Self {
            id,
            user: user.to_owned(),
            record: Mutex::new(Record {
                entries: Vec::new(),
                outcome: Outcome::Running,
            }),
            changed: watch::Sender::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Record> {
        self.record
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn push(&self, entry: Entry) {
        self.lock().entries.push(entry);
        self.changed.send_modify(|n| *n += 1);
    }

    fn finish(&self, outcome: Outcome) {
        self.lock().outcome = outcome;
        self.changed.send_modify(|n| *n += 1);
    }

    /// The entries so far and the outcome.
    #[must_use]
    pub fn snapshot(&self) -> (Vec<Entry>, Outcome) {
        let record = self.lock();
        (record.entries.clone(), record.outcome.clone())
    }

    #[must_use]
    pub fn is_running(&self) -> bool {
        self.lock().outcome == Outcome::Running
    }

    /// Wait until the run ends (tests, shutdown).
    pub async fn finished(&self) -> Outcome {
        let mut changed = self.changed.subscribe();
        loop {
            let outcome = self.lock().outcome.clone();
            if outcome != Outcome::Running {
                return outcome;
            }
            if changed.changed().await.is_err() {
                return self.lock().outcome.clone();
            }
        }
    }
}

/// What an [`Applier`] writes to.
#[derive(Debug, Clone)]
pub struct LogSink {
    job: Arc<Job>,
}

impl LogSink {
    /// Add plan lines (a multi-line text gives one entry per line).
    pub fn plan(&self, text: &str) {
        for line in text.lines() {
            self.job.push(Entry::Plan(line.to_owned()));
        }
    }

    /// Add log lines (a multi-line text gives one entry per line).
    pub fn log(&self, text: &str) {
        for line in text.lines() {
            self.job.push(Entry::Log(line.to_owned()));
        }
    }
}

/// The latest run; starting one while it runs is refused.
#[derive(Debug, Default)]
pub struct Applies {
    latest: Mutex<Option<Arc<Job>>>,
    next_id: AtomicU64,
}

/// Another apply is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

impl Applies {
    fn lock(&self) -> MutexGuard<'_, Option<Arc<Job>>> {
        self.latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The latest run, running or finished.
    #[must_use]
    pub fn latest(&self) -> Option<Arc<Job>> {
        self.lock().clone()
    }

    /// Start a run of `applier` for `user` in the background.
    pub fn start(&self, applier: Arc<dyn Applier>, user: &str) -> Result<Arc<Job>, Busy> {
        let job = {
            let mut latest = self.lock();
            if latest.as_ref().is_some_and(|job| job.is_running()) {
                return Err(Busy);
            }
            let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
            let job = Arc::new(Job::new(id, user));
            *latest = Some(Arc::clone(&job));
            job
        };
        let sink = LogSink {
            job: Arc::clone(&job),
        };
        let running = Arc::clone(&job);
        tokio::spawn(async move {
            // The run is its own task, so a panic in it still ends the job
            // (failed) instead of blocking every later apply.
            let outcome = match tokio::spawn(async move { applier.apply(sink).await }).await {
                Ok(Ok(())) => Outcome::Succeeded,
                Ok(Err(error)) => Outcome::Failed(format!("{error:#}")),
                Err(join) => {
                    tracing::error!("the apply task ended abnormally: {join}");
                    Outcome::Failed("internal error (see the server log)".to_owned())
                }
            };
            match &outcome {
                Outcome::Succeeded => audit::action(&running.user, None, "apply succeeded"),
                Outcome::Failed(why) => {
                    audit::action(&running.user, None, &format!("apply failed: {why}"));
                }
                Outcome::Running => {}
            }
            running.finish(outcome);
        });
        Ok(job)
    }
}

struct EntryView {
    text: String,
}

#[derive(Template)]
#[template(path = "apply.html")]
struct ApplyTemplate {
    c: Chrome,
    job_id: u64,
    started_by: String,
    plan: Vec<EntryView>,
    log: Vec<EntryView>,
    entries: usize,
    state: &'static str,
    status_text: String,
    busy_message: Option<&'static str>,
}

fn status_text(t: &Texts, outcome: &Outcome) -> (&'static str, String) {
    match outcome {
        Outcome::Running => ("running", t.apply_running.to_owned()),
        Outcome::Succeeded => ("succeeded", t.apply_succeeded.to_owned()),
        Outcome::Failed(why) => ("failed", i18n::fill(t.apply_failed, &[why])),
    }
}

fn apply_page(
    state: &AppState,
    who: &SignedIn,
    status: StatusCode,
    busy: bool,
) -> Result<Response, Error> {
    let t = who.texts();
    let chrome = Chrome::new(who.lang)
        .user(&who.user, &who.session.csrf)
        .nav("apply")
        .path("/apply");
    let mut template = ApplyTemplate {
        c: chrome,
        job_id: 0,
        started_by: String::new(),
        plan: Vec::new(),
        log: Vec::new(),
        entries: 0,
        state: "idle",
        status_text: t.apply_idle.to_owned(),
        busy_message: busy.then_some(t.apply_busy),
    };
    if let Some(job) = state.applies().latest() {
        let (entries, outcome) = job.snapshot();
        template.job_id = job.id;
        template.started_by = i18n::fill(t.apply_started_by, &[&job.user]);
        template.entries = entries.len();
        for entry in entries {
            match entry {
                Entry::Plan(text) => template.plan.push(EntryView { text }),
                Entry::Log(text) => template.log.push(EntryView { text }),
            }
        }
        (template.state, template.status_text) = status_text(t, &outcome);
    }
    page::render(status, &template)
}

/// `GET /apply`.
pub async fn show(State(state): State<AppState>, who: SignedIn) -> Result<Response, Error> {
    apply_page(&state, &who, StatusCode::OK, false)
}

#[derive(Debug, Deserialize)]
pub struct ApplyForm {
    csrf: Option<String>,
}

/// `POST /apply`: start a run, or refuse with 409 while one runs.
pub async fn start(
    State(state): State<AppState>,
    who: SignedIn,
    form: Result<Form<ApplyForm>, FormRejection>,
) -> Result<Response, Error> {
    let Form(form) = form?;
    who.check_csrf(form.csrf.as_deref())?;
    match state.applies().start(state.applier(), &who.user) {
        Ok(job) => {
            audit::action(&who.user, None, &format!("apply #{} started", job.id));
            Ok(Redirect::to("/apply").into_response())
        }
        Err(Busy) => {
            audit::refused(&who.user, None, "apply refused: another one is running");
            apply_page(&state, &who, StatusCode::CONFLICT, true)
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    /// Entries already shown (the page renders them), so the stream starts after.
    from: Option<usize>,
}

/// `GET /apply/events`: the latest run as server-sent events (`plan`, `log`,
/// then one `status` event when it ends, after which the stream closes). A
/// reconnecting browser resumes after `Last-Event-ID`.
pub async fn events(
    State(state): State<AppState>,
    who: SignedIn,
    headers: HeaderMap,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Error> {
    let Query(query) = query?;
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .map(|id| id + 1);
    let from = resume.or(query.from).unwrap_or(0);
    let t = who.texts();
    let Some(job) = state.applies().latest() else {
        let stream = futures_util::stream::iter([Ok::<_, Infallible>(status_event(
            t,
            &Outcome::Failed(String::new()),
            true,
        ))]);
        return Ok(Sse::new(stream).into_response());
    };
    Ok(Sse::new(job_events(job, from, t))
        .keep_alive(KeepAlive::default())
        .into_response())
}

fn status_event(t: &Texts, outcome: &Outcome, idle: bool) -> Event {
    let (state, text) = if idle {
        ("idle", t.apply_idle.to_owned())
    } else {
        let (state, text) = status_text(t, outcome);
        (state, text)
    };
    let data = serde_json::json!({ "state": state, "text": text }).to_string();
    Event::default().event("status").data(data)
}

fn job_events(
    job: Arc<Job>,
    from: usize,
    t: &'static Texts,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let changed = job.changed.subscribe();
    futures_util::stream::unfold(
        (job, from, changed, false),
        move |(job, mut next, mut changed, done)| async move {
            if done {
                return None;
            }
            loop {
                let (entry, outcome) = {
                    let record = job.lock();
                    (record.entries.get(next).cloned(), record.outcome.clone())
                };
                if let Some(entry) = entry {
                    let (kind, text) = match entry {
                        Entry::Plan(text) => ("plan", text),
                        Entry::Log(text) => ("log", text),
                    };
                    let event = Event::default().event(kind).id(next.to_string()).data(text);
                    next += 1;
                    return Some((Ok(event), (job, next, changed, false)));
                }
                if outcome != Outcome::Running {
                    let event = status_event(t, &outcome, false);
                    return Some((Ok(event), (job, next, changed, true)));
                }
                if changed.changed().await.is_err() {
                    return None;
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::StreamExt as _;

    use super::*;

    #[derive(Debug)]
    struct Gate(tokio::sync::Mutex<()>);

    #[async_trait::async_trait]
    impl Applier for Gate {
        async fn apply(&self, log: LogSink) -> anyhow::Result<()> {
            log.plan("create `web`: not found\nstart `web`");
            let _held = self.0.lock().await;
            log.log("created `web`");
            Ok(())
        }
    }

    #[derive(Debug)]
    struct Panics;

    #[async_trait::async_trait]
    impl Applier for Panics {
        async fn apply(&self, _log: LogSink) -> anyhow::Result<()> {
            panic!("boom")
        }
    }

    #[tokio::test]
    async fn a_second_apply_is_refused_while_one_runs() {
        let gate = Arc::new(Gate(tokio::sync::Mutex::new(())));
        let held = gate.0.lock().await;
        let applies = Applies::default();
        let job = applies.start(gate.clone(), "admin").unwrap();
        assert_eq!(applies.start(gate.clone(), "other").unwrap_err(), Busy);
        drop(held);
        assert_eq!(job.finished().await, Outcome::Succeeded);
        let (entries, _) = job.snapshot();
        assert_eq!(
            entries,
            [
                Entry::Plan("create `web`: not found".into()),
                Entry::Plan("start `web`".into()),
                Entry::Log("created `web`".into()),
            ]
        );
        let second = applies.start(gate, "other").unwrap();
        assert_eq!(second.id, job.id + 1);
    }

    #[tokio::test]
    async fn a_panicking_apply_ends_failed_and_frees_the_slot() {
        let applies = Applies::default();
        let job = applies.start(Arc::new(Panics), "admin").unwrap();
        assert!(matches!(job.finished().await, Outcome::Failed(_)));
        assert!(applies.start(Arc::new(Panics), "admin").is_ok());
    }

    #[tokio::test]
    async fn the_stream_replays_then_follows_then_ends_with_the_status() {
        let gate = Arc::new(Gate(tokio::sync::Mutex::new(())));
        let held = gate.0.lock().await;
        let applies = Applies::default();
        let job = applies.start(gate.clone(), "admin").unwrap();
        // Wait for the plan to be written before following.
        while job.snapshot().0.len() < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let stream = job_events(Arc::clone(&job), 1, &crate::web::i18n::EN);
        let collector = tokio::spawn(stream.collect::<Vec<_>>());
        drop(held);
        let events = collector.await.unwrap();
        let text: Vec<String> = events
            .into_iter()
            .map(|e| format!("{:?}", e.unwrap()))
            .collect();
        assert_eq!(text.len(), 3, "{text:?}");
        assert!(text[0].contains("start `web`"), "{text:?}");
        assert!(text[1].contains("created `web`"), "{text:?}");
        assert!(text[2].contains("succeeded"), "{text:?}");
    }
}

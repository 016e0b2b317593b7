//! `GET /config` (the form from the saved values) and `POST /config` (check,
//! row and instance actions, mode, save). The posted texts become changes
//! (`form::edit`), the core validates and resolves them, the cross-container
//! checks run on the result, and the page is built again from it
//! (`form::build`). A save writes `values.yml` with the core's writer, only
//! when nothing is wrong and the file is still the version the form was built
//! from.

use std::sync::Arc;

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::dictionary::Mode;
use crate::values::{self, Config, IssueKind, RawValues};

use super::context::SignedIn;
use super::error::Error;
use super::form::ConfigPage;
use super::form::build::{self, FormIssue, Input};
use super::form::edit::{self, Draft};
use super::form::posted::{Action, Posted};
use super::form::translations::Translations;
use super::i18n::Texts;
use super::loader::{self, LoadFailure};
use super::page::{self, Chrome};
use super::{AppState, audit};

/// Every issue of a resolved configuration, and the cross-container ones.
fn issues_of(config: &Config) -> Vec<FormIssue> {
    let mut issues: Vec<FormIssue> = config
        .issues()
        .iter()
        .filter(|i| i.kind != IssueKind::UnknownVariable)
        .map(|i| FormIssue {
            path: i.path.clone(),
            index: i.index,
            message: i.message.clone(),
            error: i.is_error(),
        })
        .collect();
    if let Err(errors) = crate::containers::desired(config) {
        issues.extend(errors.into_iter().map(|e| FormIssue {
            path: e.path,
            index: e.index,
            message: e.message,
            error: true,
        }));
    }
    issues
}

/// Whether an issue blocks saving: an error the administrator can fix (on a
/// variable that is neither hidden nor frozen).
fn blocks_saving(config: &Config, issue: &FormIssue) -> bool {
    issue.error
        && config
            .entry(&issue.path)
            .is_none_or(|e| !e.hidden && !e.frozen && !e.disabled)
}

fn mode_label(t: &Texts, mode: Mode) -> &'static str {
    match mode {
        Mode::Basic => t.mode_basic,
        Mode::Standard => t.mode_standard,
        Mode::Advanced => t.mode_advanced,
    }
}

/// Everything a render needs, computed off the async threads.
struct Rendered {
    status: StatusCode,
    page: ConfigPage,
}

struct FormState<'a> {
    who: &'a SignedIn,
    config: &'a Config,
    translations: &'a Translations,
    mode: Mode,
    tab: Option<String>,
    version: String,
    draft: &'a Draft,
    issues: Vec<FormIssue>,
    notice: Option<String>,
    stale: Option<String>,
    busy: Option<String>,
}

fn page_of(state: FormState<'_>) -> ConfigPage {
    let t = state.who.texts();
    let form = build::build(&Input {
        config: state.config,
        mode: state.mode,
        t,
        translations: state.translations,
        overlay: &state.draft.texts,
        issues: &state.issues,
    });
    let active_tab = state
        .tab
        .filter(|tab| form.tabs.iter().any(|t| &t.name == tab))
        .or_else(|| {
            form.tabs
                .iter()
                .find(|t| t.error_count > 0)
                .map(|t| t.name.clone())
        })
        .or_else(|| form.tabs.first().map(|t| t.name.clone()))
        .unwrap_or_default();
    let chrome = Chrome::new(state.who.lang)
        .user(&state.who.user, &state.who.session.csrf)
        .nav("config")
        .path(format!("/config?tab={}", page::query_escape(&active_tab)));
    ConfigPage {
        c: chrome,
        version: state.version,
        active_tab,
        modes: [Mode::Basic, Mode::Standard, Mode::Advanced]
            .into_iter()
            .map(|m| (m.as_str().to_owned(), mode_label(t, m).to_owned()))
            .collect(),
        mode: state.mode.as_str().to_owned(),
        stale: state.stale,
        summary_intro: t.errors_intro.to_owned(),
        form,
        notice: state.notice,
        busy: state.busy,
        dirty: !state.draft.is_empty(),
    }
}

fn load_failure(error: LoadFailure) -> Error {
    Error::Internal(anyhow::Error::new(error).context("cannot load the configuration"))
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        Error::Internal(anyhow::Error::new(e).context("the form computation stopped"))
    })?
}

#[derive(Debug, Deserialize)]
pub(super) struct ConfigQuery {
    tab: Option<String>,
    saved: Option<String>,
}

/// `GET /config`: the form of the saved values (any unsaved draft is dropped).
pub(super) async fn show(
    State(state): State<AppState>,
    who: SignedIn,
    query: Result<Query<ConfigQuery>, QueryRejection>,
) -> Result<Response, Error> {
    let Query(query) = query?;
    state.sessions().update(&who.session.id, |s| s.draft = None);
    let t = who.texts();
    let notice = match query.saved.as_deref() {
        Some("1") => Some(t.saved.to_owned()),
        Some("0") => Some(t.saved_nothing.to_owned()),
        _ => None,
    };
    let mode = who.session.mode;
    let rendered = blocking({
        let state = state.clone();
        let who = who.clone();
        move || {
            let settings = &state.config().settings;
            let (schema, translations) = state
                .schemas()
                .load(settings, who.lang)
                .map_err(load_failure)?;
            let values = loader::load_values(&settings.values).map_err(load_failure)?;
            let config = values::resolve(&schema, &values.raw);
            let draft = Draft::new(&values.version);
            let page = page_of(FormState {
                who: &who,
                config: &config,
                translations: &translations,
                mode,
                tab: query.tab,
                version: values.version,
                draft: &draft,
                issues: issues_of(&config),
                notice,
                stale: None,
                busy: None,
            });
            Ok(Rendered {
                status: StatusCode::OK,
                page,
            })
        }
    })
    .await?;
    page::render(rendered.status, &rendered.page)
}

/// What a post did.
enum Outcome {
    Page(Box<Rendered>, Draft),
    Saved { changed: Vec<String>, tab: String },
}

/// `POST /config`.
pub(super) async fn submit(
    State(state): State<AppState>,
    who: SignedIn,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, Error> {
    let Form(pairs) = form?;
    let posted = Posted::parse(pairs).map_err(Error::Malformed)?;
    who.check_csrf(posted.csrf.as_deref())?;
    let mode = match posted.mode.as_deref() {
        Some(code) => {
            Mode::parse(code).ok_or_else(|| Error::Malformed(format!("unknown mode `{code}`")))?
        }
        None => who.session.mode,
    };
    if mode != who.session.mode {
        state.sessions().update(&who.session.id, |s| s.mode = mode);
    }
    let saving = posted.action == Action::Save;
    // Saves are one at a time, from the version check to the write.
    let _guard = if saving {
        Some(Arc::clone(state.save_lock()).lock_owned().await)
    } else {
        None
    };
    let session_draft = who.session.draft.clone();
    let outcome = blocking({
        let state = state.clone();
        let who = who.clone();
        move || submit_blocking(&state, &who, mode, posted, session_draft)
    })
    .await?;
    match outcome {
        Outcome::Page(rendered, draft) => {
            state
                .sessions()
                .update(&who.session.id, |s| s.draft = Some(draft));
            page::render(rendered.status, &rendered.page)
        }
        Outcome::Saved { changed, tab } => {
            state.sessions().update(&who.session.id, |s| s.draft = None);
            let saved = if changed.is_empty() { "0" } else { "1" };
            if !changed.is_empty() {
                audit::action(
                    &who.user,
                    None,
                    &format!("saved the configuration: {}", changed.join(", ")),
                );
            }
            Ok(Redirect::to(&format!(
                "/config?saved={saved}&tab={}",
                page::query_escape(&tab)
            ))
            .into_response())
        }
    }
}

fn submit_blocking(
    state: &AppState,
    who: &SignedIn,
    mode: Mode,
    posted: Posted,
    session_draft: Option<Draft>,
) -> Result<Outcome, Error> {
    let t = who.texts();
    let settings = &state.config().settings;
    // One change at a time (docs/RELIABILITY.md): a save reads and writes the
    // values under the run lock. It never waits (a browser request must not
    // hang behind an apply): while `set` or an apply runs, the save is refused
    // with a message and the draft is kept, so saving again later loses nothing.
    let mut busy = None;
    let _lock = if posted.action == Action::Save {
        match save_lock(settings) {
            Ok(lock) => Some(lock),
            Err(crate::lock::LockError::Busy { holder, .. }) => {
                busy = Some(holder);
                None
            }
            Err(e) => {
                return Err(Error::Internal(
                    anyhow::Error::new(e).context("cannot save the configuration"),
                ));
            }
        }
    } else {
        None
    };
    let (schema, translations) = state
        .schemas()
        .load(settings, who.lang)
        .map_err(load_failure)?;
    let disk = loader::load_values(&settings.values).map_err(load_failure)?;
    let posted_version = posted.version.clone().unwrap_or_default();
    let stale = posted_version != disk.version;
    // The draft of this form, if the session holds it.
    let mut draft = session_draft
        .filter(|d| d.version == posted_version)
        .unwrap_or_else(|| Draft::new(&posted_version));
    draft.version.clone_from(&disk.version);

    // What the page showed: the saved values with the draft.
    let before_config = values::resolve(&schema, &disk.raw);
    let (before_raw, _) =
        edit::apply_accepted(&schema, &disk.raw, &edit::changes(&before_config, &draft));
    let shown = values::resolve(&schema, &before_raw);

    let mut texts = edit::posted_texts(&posted);
    let action_issue = edit::apply_action(&shown, &draft, &mut texts, &posted, t);
    edit::update_draft(&shown, &mut draft, texts);

    let (raw, refused) = edit::apply_accepted(&schema, &disk.raw, &edit::changes(&shown, &draft));
    let config = values::resolve(&schema, &raw);
    let mut issues: Vec<FormIssue> = refused
        .iter()
        .map(|i| FormIssue {
            path: i.path.clone(),
            index: i.index,
            message: i.message.clone(),
            error: true,
        })
        .collect();
    let refused_paths: Vec<&str> = refused.iter().map(|i| i.path.as_str()).collect();
    // A refused change shows its own issue, not the one of the value kept.
    issues.extend(
        issues_of(&config)
            .into_iter()
            .filter(|i| !refused_paths.contains(&i.path.as_str())),
    );
    issues.extend(action_issue);

    // A refused change always blocks (saving would drop what was typed);
    // other errors when the administrator can fix them.
    let blocking_issues = refused.len()
        + issues
            .iter()
            .skip(refused.len())
            .filter(|i| blocks_saving(&config, i))
            .count();
    let mut status = if blocking_issues > 0 {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut stale_message = None;
    let mut notice = None;
    let mut busy_message = None;
    if busy.is_none() && saving_allowed(&posted, stale, blocking_issues) {
        let changed: Vec<String> = draft.texts.keys().cloned().collect();
        if !changed.is_empty() && raw != disk.raw {
            write_values(&settings.values, &raw)?;
        }
        return Ok(Outcome::Saved {
            changed,
            tab: posted.tab.unwrap_or_default(),
        });
    }
    if posted.action == Action::Save {
        if let Some(holder) = &busy {
            status = StatusCode::CONFLICT;
            busy_message = Some(t.save_busy.to_owned());
            audit::refused(
                &who.user,
                None,
                &format!(
                    "save refused: another brise run holds the lock ({})",
                    holder.as_deref().unwrap_or("unknown holder")
                ),
            );
        } else if stale {
            status = StatusCode::CONFLICT;
            stale_message = Some(t.stale_message.to_owned());
            audit::refused(
                &who.user,
                None,
                "save refused: the values changed meanwhile",
            );
        } else {
            notice = None;
            audit::refused(
                &who.user,
                None,
                &format!("save refused: {blocking_issues} error(s)"),
            );
        }
    }
    let page = page_of(FormState {
        who,
        config: &config,
        translations: &translations,
        mode,
        tab: posted.tab,
        version: disk.version,
        draft: &draft,
        issues,
        notice,
        stale: stale_message,
        busy: busy_message,
    });
    Ok(Outcome::Page(Box::new(Rendered { status, page }), draft))
}

fn saving_allowed(posted: &Posted, stale: bool, blocking_issues: usize) -> bool {
    posted.action == Action::Save && !stale && blocking_issues == 0
}

fn save_lock(
    settings: &crate::app::Settings,
) -> Result<crate::lock::RunLock, crate::lock::LockError> {
    crate::lock::acquire(
        &settings.state_dir,
        "web form save",
        crate::lock::Wait::NoWait,
        &mut |_| {},
    )
}

fn write_values(path: &std::path::Path, raw: &RawValues) -> Result<(), Error> {
    values::write_file(path, raw).map_err(|e| {
        Error::Internal(anyhow::Error::new(e).context("cannot save the configuration"))
    })
}

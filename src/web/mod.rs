//! The web configuration form (axum + askama): [`router`] builds the whole
//! application from an [`AppState`]; one file per page or concern. Handlers
//! are thin: validation is the core's (`values`), applying is the reconciler's
//! (through [`apply::Applier`]), never re-implemented here. Every route but the
//! login page and the static files needs a signed-in session; every POST
//! carries the session's CSRF token.

pub mod apply;
mod assets;
pub mod audit;
pub mod changes;
mod config;
pub mod context;
pub mod error;
pub mod form;
pub mod i18n;
pub mod loader;
mod login;
pub mod page;
pub mod ratelimit;
pub mod reconfigure;
pub mod security;
pub mod session;
pub mod users;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::Redirect;
use axum::routing::{get, post};

use crate::app::Settings;

pub use error::Error;

/// The largest request body accepted (a form of a few thousand fields fits).
pub const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// What the server is configured with.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Where dictionaries, templates, values and state are.
    pub settings: Settings,
    /// The users file (`brise passwd`).
    pub users_file: PathBuf,
    pub sessions: session::SessionLimits,
    pub rate_limits: ratelimit::RateLimits,
    /// Bodies larger than this are refused with 413.
    pub body_limit: usize,
}

impl WebConfig {
    #[must_use]
    pub fn new(settings: Settings, users_file: PathBuf) -> Self {
        Self {
            settings,
            users_file,
            sessions: session::SessionLimits::default(),
            rate_limits: ratelimit::RateLimits::default(),
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }
}

#[derive(Debug)]
struct Inner {
    config: WebConfig,
    sessions: session::SessionStore,
    limiter: ratelimit::LoginLimiter,
    applier: Arc<dyn apply::Applier>,
    applies: apply::Applies,
    schemas: loader::SchemaCache,
    save_lock: Arc<tokio::sync::Mutex<()>>,
}

/// Everything the handlers share; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

impl AppState {
    #[must_use]
    pub fn new(config: WebConfig, applier: Arc<dyn apply::Applier>) -> Self {
        Self {
            inner: Arc::new(Inner {
                sessions: session::SessionStore::new(config.sessions),
                limiter: ratelimit::LoginLimiter::new(config.rate_limits),
                config,
                applier,
                applies: apply::Applies::default(),
                schemas: loader::SchemaCache::default(),
                save_lock: Arc::default(),
            }),
        }
    }

    #[must_use]
    pub fn config(&self) -> &WebConfig {
        &self.inner.config
    }

    #[must_use]
    pub fn sessions(&self) -> &session::SessionStore {
        &self.inner.sessions
    }

    #[must_use]
    pub fn limiter(&self) -> &ratelimit::LoginLimiter {
        &self.inner.limiter
    }

    #[must_use]
    pub fn applier(&self) -> Arc<dyn apply::Applier> {
        Arc::clone(&self.inner.applier)
    }

    #[must_use]
    pub fn applies(&self) -> &apply::Applies {
        &self.inner.applies
    }

    /// The dictionaries, cached.
    #[must_use]
    pub fn schemas(&self) -> &loader::SchemaCache {
        &self.inner.schemas
    }

    /// Held from a save's version check to its write.
    #[must_use]
    pub fn save_lock(&self) -> &Arc<tokio::sync::Mutex<()>> {
        &self.inner.save_lock
    }
}

async fn not_found() -> Error {
    Error::NotFound
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config().body_limit;
    Router::new()
        .route("/", get(|| async { Redirect::to("/config") }))
        .route("/login", get(login::show).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/lang", post(login::switch_lang))
        .route("/config", get(config::show).post(config::submit))
        .route("/changes", get(changes::show))
        .route("/apply", get(apply::show).post(apply::start))
        .route("/apply/events", get(apply::events))
        .route("/static/{name}", get(assets::asset))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::error_pages,
        ))
        .layer(axum::middleware::from_fn(security::headers))
        .with_state(state)
}

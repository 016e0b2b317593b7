//! Sign in, sign out and the language switch. Login is rate-limited per user
//! and address, checks the password against the users file (re-read at each
//! attempt, so `brise passwd` takes effect at once) off the async threads, and
//! replaces the session by a new one.

use std::time::Instant;

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::context::{SignedIn, Visitor, check_csrf};
use super::error::Error;
use super::i18n::{self, Lang};
use super::page::{self, Chrome};
use super::{AppState, audit, session, users};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTemplate {
    c: Chrome,
    error: Option<String>,
    info: Option<String>,
    user: String,
    next: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct LoginQuery {
    next: Option<String>,
    bye: Option<String>,
}

/// The session to show the login form with: the visitor's if any, else a new
/// anonymous one (and its cookie).
fn login_session(state: &AppState, visitor: &Visitor) -> (session::Session, Option<String>) {
    match &visitor.session {
        Some(session) => (session.clone(), None),
        None => {
            let session = state.sessions().create_anonymous(None, Instant::now());
            let cookie = session::cookie_header(&session.id, visitor.secure);
            (session, Some(cookie))
        }
    }
}

fn with_cookie(mut response: Response, cookie: Option<String>) -> Response {
    if let Some(cookie) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

fn login_page(
    status: StatusCode,
    visitor: &Visitor,
    session: &session::Session,
    error: Option<String>,
    info: Option<String>,
    user: String,
    next: String,
) -> Result<Response, Error> {
    let chrome = Chrome::new(visitor.lang)
        .csrf(&session.csrf)
        .path(format!("/login?next={}", page::query_escape(&next)));
    page::render(
        status,
        &LoginTemplate {
            c: chrome,
            error,
            info,
            user,
            next,
        },
    )
}

/// `GET /login`.
pub(super) async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    query: Result<Query<LoginQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Error> {
    let Query(query) = query?;
    let next = page::local_path(query.next.as_deref(), "/config");
    if visitor.session.as_ref().is_some_and(|s| s.user.is_some()) {
        return Ok(Redirect::to(&next).into_response());
    }
    let (session, cookie) = login_session(&state, &visitor);
    let info = query.bye.map(|_| visitor.texts().logged_out.to_owned());
    let response = login_page(
        StatusCode::OK,
        &visitor,
        &session,
        None,
        info,
        String::new(),
        next,
    )?;
    Ok(with_cookie(response, cookie))
}

#[derive(Debug, Deserialize)]
pub(super) struct LoginForm {
    csrf: Option<String>,
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// `POST /login`.
pub(super) async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, Error> {
    let Form(form) = form?;
    let Some(session) = visitor.session.clone() else {
        // No session (expired, or cookies refused): a fresh form, nothing checked.
        let (session, cookie) = login_session(&state, &visitor);
        let message = visitor.texts().login_session_expired.to_owned();
        let next = page::local_path(form.next.as_deref(), "/config");
        let response = login_page(
            StatusCode::FORBIDDEN,
            &visitor,
            &session,
            Some(message),
            None,
            form.user,
            next,
        )?;
        return Ok(with_cookie(response, cookie));
    };
    check_csrf(&session, form.csrf.as_deref())?;
    let next = page::local_path(form.next.as_deref(), "/config");
    let user = form.user.trim().to_owned();
    let now = Instant::now();
    if let Err(wait) = state.limiter().check(&user, visitor.address, now) {
        audit::refused(&user, visitor.address, "login rate-limited");
        let minutes = wait.as_secs().div_ceil(60).max(1).to_string();
        let message = i18n::fill(visitor.texts().login_rate_limited, &[&minutes]);
        let mut response = login_page(
            StatusCode::TOO_MANY_REQUESTS,
            &visitor,
            &session,
            Some(message),
            None,
            user,
            next,
        )?;
        if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return Ok(response);
    }
    let users_file = state.config().users_file.clone();
    let (check_user, password) = (user.clone(), form.password);
    let verified = tokio::task::spawn_blocking(move || {
        users::load(&users_file).map(|users| users.verify(&check_user, &password))
    })
    .await
    .map_err(|e| Error::Internal(anyhow::Error::new(e).context("password check interrupted")))?
    .map_err(|e| Error::Internal(anyhow::Error::new(e)))?;
    if !verified {
        state.limiter().record_failure(&user, visitor.address, now);
        audit::refused(&user, visitor.address, "login failed");
        let message = visitor.texts().login_failed.to_owned();
        return login_page(
            StatusCode::UNAUTHORIZED,
            &visitor,
            &session,
            Some(message),
            None,
            user,
            next,
        );
    }
    state.limiter().record_success(&user);
    let signed_in = state.sessions().login(Some(&session.id), &user, now);
    audit::action(&user, visitor.address, "signed in");
    let response = Redirect::to(&next).into_response();
    Ok(with_cookie(
        response,
        Some(session::cookie_header(&signed_in.id, visitor.secure)),
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct CsrfForm {
    csrf: Option<String>,
}

/// `POST /logout`.
pub(super) async fn logout(
    State(state): State<AppState>,
    who: SignedIn,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, Error> {
    let Form(form) = form?;
    who.check_csrf(form.csrf.as_deref())?;
    state.sessions().remove(&who.session.id);
    audit::action(&who.user, None, "signed out");
    // A new anonymous session keeps the chosen language on the login page.
    let anonymous = state
        .sessions()
        .create_anonymous(who.session.lang, Instant::now());
    let response = Redirect::to("/login?bye=1").into_response();
    Ok(with_cookie(
        response,
        Some(session::cookie_header(&anonymous.id, who.secure)),
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct LangForm {
    csrf: Option<String>,
    lang: Option<String>,
    next: Option<String>,
}

/// `POST /lang`: the language switch (any session, signed in or not).
pub(super) async fn switch_lang(
    State(state): State<AppState>,
    visitor: Visitor,
    form: Result<Form<LangForm>, FormRejection>,
) -> Result<Response, Error> {
    let Form(form) = form?;
    let Some(session) = &visitor.session else {
        return Err(Error::Csrf);
    };
    check_csrf(session, form.csrf.as_deref())?;
    let lang = form
        .lang
        .as_deref()
        .and_then(Lang::from_code)
        .ok_or_else(|| Error::Malformed("unknown language".to_owned()))?;
    state
        .sessions()
        .update(&session.id, |s| s.lang = Some(lang));
    let next = page::local_path(form.next.as_deref(), "/config");
    Ok(Redirect::to(&next).into_response())
}

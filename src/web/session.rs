//! Server-side sessions: random 256-bit ids in an HttpOnly, SameSite=Strict
//! cookie, the data (user, CSRF token, language, mode) in memory. A session is
//! anonymous until login, which replaces it by a new id (no fixation). Time is a
//! parameter (`now`), so expiry is tested without waiting.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rand::RngCore as _;

use super::form::edit::Draft;
use super::i18n::Lang;
use crate::dictionary::Mode;

/// The session cookie's name.
pub const COOKIE: &str = "brise_session";

/// A random token (session id, CSRF token): 32 bytes from the thread's CSPRNG, hex.
#[must_use]
pub fn random_token() -> String {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Compare two tokens in time independent of where they differ.
#[must_use]
pub fn tokens_match(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What the server knows about one browser.
#[derive(Clone)]
pub struct Session {
    pub id: String,
    /// The signed-in user; `None` before login.
    pub user: Option<String>,
    /// The token every form of this session carries.
    pub csrf: String,
    /// The language chosen with the switch; `None` = follow the browser.
    pub lang: Option<Lang>,
    /// The form's mode (EOLE's basique / normal / expert).
    pub mode: Mode,
    /// What the form holds typed and not saved (secrets included: it stays here).
    pub draft: Option<Draft>,
    created: Instant,
    last_seen: Instant,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The id and token are credentials: never in logs.
        f.debug_struct("Session")
            .field("user", &self.user)
            .field("lang", &self.lang)
            .field("mode", &self.mode)
            .field("draft", &self.draft.as_ref().map(|d| d.texts.len()))
            .finish_non_exhaustive()
    }
}

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// A signed-in session unused this long ends.
    pub idle: Duration,
    /// A signed-in session ends this long after login, used or not.
    pub absolute: Duration,
    /// An anonymous session (login page) unused this long ends.
    pub anonymous_idle: Duration,
    /// At most this many anonymous sessions are kept (the oldest go first), so
    /// unauthenticated clients cannot fill the memory.
    pub max_anonymous: usize,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
            anonymous_idle: Duration::from_secs(30 * 60),
            max_anonymous: 10_000,
        }
    }
}

/// Every live session.
#[derive(Debug, Default)]
pub struct SessionStore {
    sessions: Mutex<HashMap<String, Session>>,
    limits: SessionLimits,
}

impl SessionStore {
    #[must_use]
    pub fn new(limits: SessionLimits) -> Self {
        Self {
            sessions: Mutex::default(),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        // A panic while holding the lock cannot leave a session half-written
        // (every update is one assignment), so a poisoned map is still sound.
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn expired(&self, session: &Session, now: Instant) -> bool {
        let idle = now.saturating_duration_since(session.last_seen);
        match session.user {
            Some(_) => {
                idle > self.limits.idle
                    || now.saturating_duration_since(session.created) > self.limits.absolute
            }
            None => idle > self.limits.anonymous_idle,
        }
    }

    /// The live session with this id, marked as seen now; an expired one is removed.
    pub fn get(&self, id: &str, now: Instant) -> Option<Session> {
        let mut sessions = self.lock();
        let session = sessions.get_mut(id)?;
        if self.expired(session, now) {
            sessions.remove(id);
            return None;
        }
        session.last_seen = now;
        Some(session.clone())
    }

    /// A new anonymous session (the login page's).
    pub fn create_anonymous(&self, lang: Option<Lang>, now: Instant) -> Session {
        let session = Session {
            id: random_token(),
            user: None,
            csrf: random_token(),
            lang,
            mode: Mode::Basic,
            draft: None,
            created: now,
            last_seen: now,
        };
        let mut sessions = self.lock();
        sessions.retain(|_, s| !self.expired(s, now));
        let anonymous = sessions.values().filter(|s| s.user.is_none()).count();
        if anonymous >= self.limits.max_anonymous {
            let oldest: Vec<String> = {
                let mut anon: Vec<&Session> =
                    sessions.values().filter(|s| s.user.is_none()).collect();
                anon.sort_by_key(|s| s.last_seen);
                anon.iter()
                    .take(anonymous + 1 - self.limits.max_anonymous)
                    .map(|s| s.id.clone())
                    .collect()
            };
            for id in oldest {
                sessions.remove(&id);
            }
        }
        sessions.insert(session.id.clone(), session.clone());
        session
    }

    /// Sign `user` in: the old session (if any) is removed and a new one, with a
    /// new id and a new CSRF token, replaces it; its language carries over.
    pub fn login(&self, old_id: Option<&str>, user: &str, now: Instant) -> Session {
        let mut sessions = self.lock();
        let lang = old_id
            .and_then(|id| sessions.remove(id))
            .and_then(|old| old.lang);
        let session = Session {
            id: random_token(),
            user: Some(user.to_owned()),
            csrf: random_token(),
            lang,
            mode: Mode::Basic,
            draft: None,
            created: now,
            last_seen: now,
        };
        sessions.insert(session.id.clone(), session.clone());
        session
    }

    /// End a session.
    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Change a session's preferences; `false` when it no longer exists.
    pub fn update(&self, id: &str, change: impl FnOnce(&mut Session)) -> bool {
        match self.lock().get_mut(id) {
            Some(session) => {
                change(session);
                true
            }
            None => false,
        }
    }

    /// How many sessions are kept (tests and diagnostics).
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The `Set-Cookie` value for a session id. `Secure` when the request came over
/// https (directly or through a proxy saying so), so the cookie is not sent in clear.
#[must_use]
pub fn cookie_header(id: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict{secure}")
}

/// The `Set-Cookie` value that removes the session cookie.
#[must_use]
pub fn removal_cookie_header(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> SessionLimits {
        SessionLimits {
            idle: Duration::from_secs(60),
            absolute: Duration::from_secs(600),
            anonymous_idle: Duration::from_secs(30),
            max_anonymous: 3,
        }
    }

    #[test]
    fn tokens_are_random_and_long() {
        let a = random_token();
        let b = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }

    #[test]
    fn tokens_match_only_when_equal() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abc", "abd"));
        assert!(!tokens_match("abc", "ab"));
        assert!(!tokens_match("", "a"));
    }

    #[test]
    fn login_replaces_the_session_id_and_csrf_token() {
        let store = SessionStore::new(limits());
        let now = Instant::now();
        let anonymous = store.create_anonymous(Some(Lang::En), now);
        let signed_in = store.login(Some(&anonymous.id), "admin", now);
        assert_ne!(signed_in.id, anonymous.id);
        assert_ne!(signed_in.csrf, anonymous.csrf);
        assert_eq!(signed_in.user.as_deref(), Some("admin"));
        assert_eq!(signed_in.lang, Some(Lang::En));
        assert!(
            store.get(&anonymous.id, now).is_none(),
            "old id still valid"
        );
        assert!(store.get(&signed_in.id, now).is_some());
    }

    #[test]
    fn an_idle_session_expires() {
        let store = SessionStore::new(limits());
        let start = Instant::now();
        let session = store.login(None, "admin", start);
        let later = start + Duration::from_secs(50);
        assert!(store.get(&session.id, later).is_some());
        // Seen at +50 s, so still alive at +100 s, gone at +111 s.
        assert!(
            store
                .get(&session.id, later + Duration::from_secs(50))
                .is_some()
        );
        assert!(
            store
                .get(&session.id, later + Duration::from_secs(111))
                .is_none()
        );
    }

    #[test]
    fn a_used_session_still_ends_after_the_absolute_limit() {
        let store = SessionStore::new(limits());
        let start = Instant::now();
        let session = store.login(None, "admin", start);
        for minute in 1..=10 {
            let now = start + Duration::from_secs(minute * 55);
            assert!(store.get(&session.id, now).is_some(), "minute {minute}");
        }
        assert!(
            store
                .get(&session.id, start + Duration::from_secs(601))
                .is_none()
        );
    }

    #[test]
    fn anonymous_sessions_are_bounded() {
        let store = SessionStore::new(limits());
        let now = Instant::now();
        let signed_in = store.login(None, "admin", now);
        let first = store.create_anonymous(None, now);
        for i in 1..10 {
            store.create_anonymous(None, now + Duration::from_millis(i));
        }
        assert_eq!(store.len(), 4);
        assert!(store.get(&first.id, now).is_none());
        assert!(store.get(&signed_in.id, now).is_some());
    }

    #[test]
    fn the_cookie_is_http_only_and_strict() {
        assert_eq!(
            cookie_header("abc", false),
            "brise_session=abc; Path=/; HttpOnly; SameSite=Strict"
        );
        assert!(cookie_header("abc", true).ends_with("; Secure"));
        assert!(removal_cookie_header(false).contains("Max-Age=0"));
    }

    #[test]
    fn debug_output_shows_no_credential() {
        let store = SessionStore::new(limits());
        let session = store.login(None, "admin", Instant::now());
        let shown = format!("{session:?}");
        assert!(!shown.contains(&session.id));
        assert!(!shown.contains(&session.csrf));
    }
}

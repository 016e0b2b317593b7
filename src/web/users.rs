//! The web users file (`/etc/brise/web-users`, mode 0600): one `user:argon2id-PHC`
//! line per user, `#` comments. Parsing and checking are pure ([`Users::parse`],
//! [`Users::verify`]); [`load`] and [`save`] are the thin I/O wrappers, and
//! saving is atomic. Passwords are hashed with argon2id and never stored or logged.

use std::fmt;
use std::path::{Path, PathBuf};

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use thiserror::Error;

/// Where `brise passwd` writes and `brise serve` reads the users.
pub const DEFAULT_USERS_FILE: &str = "/etc/brise/web-users";

/// The longest password accepted (argon2 accepts more; nobody types more).
pub const MAX_PASSWORD_LEN: usize = 1024;

#[derive(Debug, Error)]
pub enum UsersError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: PathBuf,
        source: crate::output::atomic::AtomicError,
    },
    #[error("{path}:{line}: expected `user:$argon2id$…`")]
    MalformedLine { path: PathBuf, line: usize },
    #[error("{path}:{line}: user `{user}` is listed twice")]
    DuplicateUser {
        path: PathBuf,
        line: usize,
        user: String,
    },
    #[error(
        "invalid user name `{0}`: use lowercase letters, digits, `_`, `-` or `.`, starting with a letter or `_`"
    )]
    InvalidUserName(String),
    #[error("the password is empty")]
    EmptyPassword,
    #[error("the password is longer than {MAX_PASSWORD_LEN} bytes")]
    PasswordTooLong,
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// The users and their password hashes, in file order.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Users {
    entries: Vec<(String, String)>,
}

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Hashes are not secrets in the strict sense, but they stay out of logs.
        f.debug_list()
            .entries(self.entries.iter().map(|(user, _)| user))
            .finish()
    }
}

/// Whether `name` is a valid user name (also what keeps `:` and newlines out of the file).
#[must_use]
pub fn is_valid_user_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    name.len() <= 64
        && (first.is_ascii_lowercase() || first == '_')
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'))
}

impl Users {
    /// Parse the file's text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, UsersError> {
        let mut entries: Vec<(String, String)> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let malformed = || UsersError::MalformedLine {
                path: path.to_owned(),
                line: index + 1,
            };
            let (user, hash) = line.split_once(':').ok_or_else(malformed)?;
            if !is_valid_user_name(user)
                || argon2::password_hash::phc::PasswordHash::new(hash).is_err()
            {
                return Err(malformed());
            }
            if entries.iter().any(|(u, _)| u == user) {
                return Err(UsersError::DuplicateUser {
                    path: path.to_owned(),
                    line: index + 1,
                    user: user.to_owned(),
                });
            }
            entries.push((user.to_owned(), hash.to_owned()));
        }
        Ok(Self { entries })
    }

    /// The file's text.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut text = String::from("# brise web users (`brise passwd USER` to add or change)\n");
        for (user, hash) in &self.entries {
            text.push_str(user);
            text.push(':');
            text.push_str(hash);
            text.push('\n');
        }
        text
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// User names, in file order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(user, _)| user.as_str())
    }

    /// Add the user or replace their hash.
    pub fn set(&mut self, user: &str, hash: String) -> Result<(), UsersError> {
        if !is_valid_user_name(user) {
            return Err(UsersError::InvalidUserName(user.to_owned()));
        }
        match self.entries.iter_mut().find(|(u, _)| u == user) {
            Some(entry) => entry.1 = hash,
            None => self.entries.push((user.to_owned(), hash)),
        }
        Ok(())
    }

    /// Remove the user; whether they were there.
    pub fn remove(&mut self, user: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|(u, _)| u != user);
        self.entries.len() != before
    }

    /// Whether `password` is `user`'s. An unknown user costs the same time as a
    /// known one (checked against another user's hash), so timing does not tell
    /// which users exist.
    #[must_use]
    pub fn verify(&self, user: &str, password: &str) -> bool {
        if password.is_empty() || password.len() > MAX_PASSWORD_LEN {
            return false;
        }
        match self.entries.iter().find(|(u, _)| u == user) {
            Some((_, hash)) => check(password, hash),
            None => {
                if let Some((_, hash)) = self.entries.first() {
                    // Same cost, and a password never matches for an unknown user.
                    let _ = check(password, hash);
                }
                false
            }
        }
    }
}

fn check(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

fn checked(password: &str) -> Result<&[u8], UsersError> {
    if password.is_empty() {
        return Err(UsersError::EmptyPassword);
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(UsersError::PasswordTooLong);
    }
    Ok(password.as_bytes())
}

/// Hash a password with argon2id and the crate's recommended parameters, random salt.
pub fn hash_password(password: &str) -> Result<String, UsersError> {
    let hash = Argon2::default()
        .hash_password(checked(password)?)
        .map_err(|e| UsersError::Hash(e.to_string()))?;
    Ok(hash.to_string())
}

/// Hash with cheap argon2id parameters: for tests only, where the recommended
/// cost would make every login take seconds in a debug build.
pub fn hash_password_cheaply_for_tests(password: &str) -> Result<String, UsersError> {
    let params = Params::new(Params::MIN_M_COST.max(64), 1, 1, None)
        .map_err(|e| UsersError::Hash(e.to_string()))?;
    let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(checked(password)?)
        .map_err(|e| UsersError::Hash(e.to_string()))?;
    Ok(hash.to_string())
}

/// Read the users file; a missing file is an empty list.
pub fn load(path: &Path) -> Result<Users, UsersError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Users::parse(&text, path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Users::default()),
        Err(source) => Err(UsersError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Write the users file atomically (the project's atomic writer: temporary
/// file, fsync, rename), owned by the current user and readable by them only.
pub fn save(path: &Path, users: &Users) -> Result<(), UsersError> {
    let attributes = crate::output::atomic::FileAttributes {
        uid: nix::unistd::getuid().as_raw(),
        gid: nix::unistd::getgid().as_raw(),
        mode: 0o600,
    };
    crate::output::atomic::write(path, users.to_text().as_bytes(), Some(attributes)).map_err(
        |source| UsersError::Write {
            path: path.to_owned(),
            source,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> PathBuf {
        PathBuf::from("/etc/brise/web-users")
    }

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let mut users = Users::default();
        users
            .set("admin", hash_password_cheaply_for_tests("s3cret").unwrap())
            .unwrap();
        assert!(users.verify("admin", "s3cret"));
        assert!(!users.verify("admin", "S3cret"));
        assert!(!users.verify("other", "s3cret"));
        assert!(!users.verify("admin", ""));
    }

    #[test]
    fn the_recommended_hash_is_argon2id() {
        let hash = hash_password("pw").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
    }

    #[test]
    fn the_file_text_round_trips() {
        let mut users = Users::default();
        users
            .set("admin", hash_password_cheaply_for_tests("a").unwrap())
            .unwrap();
        users
            .set("marie.curie", hash_password_cheaply_for_tests("b").unwrap())
            .unwrap();
        let parsed = Users::parse(&users.to_text(), &path()).unwrap();
        assert_eq!(parsed, users);
        assert_eq!(parsed.names().collect::<Vec<_>>(), ["admin", "marie.curie"]);
    }

    #[test]
    fn setting_an_existing_user_replaces_the_hash() {
        let mut users = Users::default();
        users
            .set("admin", hash_password_cheaply_for_tests("old").unwrap())
            .unwrap();
        users
            .set("admin", hash_password_cheaply_for_tests("new").unwrap())
            .unwrap();
        assert_eq!(users.names().count(), 1);
        assert!(users.verify("admin", "new"));
        assert!(!users.verify("admin", "old"));
    }

    #[test]
    fn malformed_lines_are_refused_with_their_line_number() {
        let error = Users::parse("# c\n\nadmin-no-hash\n", &path()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "/etc/brise/web-users:3: expected `user:$argon2id$…`"
        );
        let error = Users::parse("admin:not-a-hash\n", &path()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "/etc/brise/web-users:1: expected `user:$argon2id$…`"
        );
    }

    #[test]
    fn a_user_listed_twice_is_refused() {
        let hash = hash_password_cheaply_for_tests("a").unwrap();
        let text = format!("admin:{hash}\nadmin:{hash}\n");
        let error = Users::parse(&text, &path()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "/etc/brise/web-users:2: user `admin` is listed twice"
        );
    }

    #[test]
    fn user_names_that_could_break_the_file_are_refused() {
        for bad in ["", "Admin", "a:b", "a b", "a\nb", "-x", "9lives"] {
            assert!(!is_valid_user_name(bad), "{bad:?}");
            let mut users = Users::default();
            assert!(users.set(bad, String::new()).is_err());
        }
        for good in ["admin", "_svc", "jean-paul.dupont2"] {
            assert!(is_valid_user_name(good), "{good:?}");
        }
    }

    #[test]
    fn empty_and_oversized_passwords_are_refused() {
        assert!(matches!(hash_password(""), Err(UsersError::EmptyPassword)));
        let long = "x".repeat(MAX_PASSWORD_LEN + 1);
        assert!(matches!(
            hash_password(&long),
            Err(UsersError::PasswordTooLong)
        ));
    }

    #[test]
    fn save_writes_an_owner_only_file_that_loads_back() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("web-users");
        assert!(load(&file).unwrap().is_empty());
        let mut users = Users::default();
        users
            .set("admin", hash_password_cheaply_for_tests("pw").unwrap())
            .unwrap();
        save(&file, &users).unwrap();
        assert_eq!(load(&file).unwrap(), users);
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn debug_output_shows_no_hash() {
        let mut users = Users::default();
        let hash = hash_password_cheaply_for_tests("pw").unwrap();
        users.set("admin", hash.clone()).unwrap();
        let shown = format!("{users:?}");
        assert!(!shown.contains(&hash));
        assert!(shown.contains("admin"));
    }
}

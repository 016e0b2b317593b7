//! A template catalogue file (YAML beside the templates) → its [`Entry`]s:
//! for each template its source, target path (itself a template), `for_each`,
//! `enabled` condition, owner, group, mode, check and service to reload.
//! Pure: takes the file's path (for positions) and text; every problem is a
//! [`Diagnostic`] at `file:line:column`.

use std::path::PathBuf;
use std::sync::Arc;

use indexmap::IndexMap;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::diagnostic::{Diagnostic, Span};

/// A check run on a candidate file before it replaces the live one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    /// `nginx -t` on the nginx configuration with the candidate files in place.
    Nginx,
}

impl Check {
    const NAMES: &'static str = "`nginx`";

    fn parse(name: &str) -> Option<Self> {
        match name {
            "nginx" => Some(Self::Nginx),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nginx => "nginx",
        }
    }
}

/// When a template produces its file(s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enabled {
    /// A constant (`enabled: true` / `enabled: false`).
    Always(bool),
    /// A tera expression evaluated in the template's context
    /// (`this.ports | length > 0`): the file is produced when it is true.
    Expression(Located<String>),
}

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub span: Span,
}

/// One template of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key of the entry; a later template directory overrides by name.
    pub name: String,
    pub description: Option<String>,
    /// Template file, relative to the template directories.
    pub source: Located<String>,
    /// Target path, itself a template (`/etc/nginx/web.d/conteneurs{{ index }}.conf`).
    pub target: Located<String>,
    /// A dynamic family pattern (`containers.container_{{ identifier }}`) or a
    /// leadership path: one file per instance or row.
    pub for_each: Option<Located<String>>,
    pub enabled: Enabled,
    pub owner: String,
    pub group: String,
    /// Permission bits (`0o644`).
    pub mode: u32,
    pub check: Option<Check>,
    /// Service reloaded when one of this template's files changes.
    pub reload: Option<String>,
    /// Where the entry starts in its catalogue file.
    pub span: Span,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawEnabled {
    Bool(bool),
    Expression(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    description: Option<String>,
    source: Spanned<String>,
    target: Spanned<String>,
    for_each: Option<Spanned<String>>,
    enabled: Option<Spanned<RawEnabled>>,
    owner: Option<Spanned<String>>,
    group: Option<Spanned<String>>,
    mode: Option<Spanned<String>>,
    check: Option<Spanned<String>>,
    reload: Option<Spanned<String>>,
}

/// Parse one catalogue file. Every entry is checked; all problems are returned.
pub fn parse(path: &Arc<PathBuf>, text: &str) -> Result<Vec<Entry>, Vec<Diagnostic>> {
    let raw: Option<IndexMap<String, Spanned<RawEntry>>> = match serde_saphyr::from_str(text) {
        Ok(raw) => raw,
        Err(error) => {
            let span = error.location().map(|location| {
                Span::new(
                    Arc::clone(path),
                    to_usize(location.line()),
                    to_usize(location.column()),
                )
            });
            let message = first_line(&error.without_snippet().to_string());
            return Err(vec![
                Diagnostic::error(span, format!("invalid template catalogue: {message}"))
                    .with_source(text),
            ]);
        }
    };
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for (name, raw) in raw.unwrap_or_default() {
        match convert(path, name, raw) {
            Ok(entry) => entries.push(entry),
            Err(mut found) => errors.append(&mut found),
        }
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(errors
            .into_iter()
            .map(|diagnostic| diagnostic.with_source(text))
            .collect())
    }
}

fn convert(
    path: &Arc<PathBuf>,
    name: String,
    raw: Spanned<RawEntry>,
) -> Result<Entry, Vec<Diagnostic>> {
    let span = span_of(path, &raw.referenced);
    let raw = raw.value;
    let mut errors = Vec::new();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        errors.push(Diagnostic::error(
            Some(span.clone()),
            format!("template name `{name}` must use only letters, digits, `_` and `-`"),
        ));
    }
    let source = located(path, raw.source);
    if source.value.is_empty()
        || source.value.starts_with('/')
        || source
            .value
            .split('/')
            .any(|part| part == ".." || part == ".")
    {
        errors.push(Diagnostic::error(
            Some(source.span.clone()),
            format!(
                "source `{}` must be a path relative to the template directories",
                source.value
            ),
        ));
    }
    let target = located(path, raw.target);
    if !target.value.trim_start().starts_with('/') {
        errors.push(Diagnostic::error(
            Some(target.span.clone()),
            format!("target `{}` must be an absolute path", target.value),
        ));
    }
    let for_each = raw.for_each.map(|spanned| located(path, spanned));
    if let Some(for_each) = &for_each {
        if let Some(problem) = for_each_problem(&for_each.value) {
            errors.push(Diagnostic::error(Some(for_each.span.clone()), problem));
        }
    }
    let enabled = match raw.enabled {
        None => Enabled::Always(true),
        Some(spanned) => {
            let span = span_of(path, &spanned.referenced);
            match spanned.value {
                RawEnabled::Bool(value) => Enabled::Always(value),
                RawEnabled::Expression(expression) if expression.trim().is_empty() => {
                    errors.push(Diagnostic::error(
                        Some(span),
                        "`enabled` must be `true`, `false` or a tera expression",
                    ));
                    Enabled::Always(false)
                }
                RawEnabled::Expression(expression) => Enabled::Expression(Located {
                    value: expression,
                    span,
                }),
            }
        }
    };
    let owner = account(path, raw.owner, "owner", &mut errors);
    let group = account(path, raw.group, "group", &mut errors);
    let mode = match raw.mode {
        None => 0o644,
        Some(spanned) => match parse_mode(&spanned.value) {
            Some(mode) => mode,
            None => {
                errors.push(Diagnostic::error(
                    Some(span_of(path, &spanned.referenced)),
                    format!(
                        "mode `{}` must be octal permission bits written as a string, like \"0644\"",
                        spanned.value
                    ),
                ));
                0o644
            }
        },
    };
    let check = match raw.check {
        None => None,
        Some(spanned) => match Check::parse(&spanned.value) {
            Some(check) => Some(check),
            None => {
                errors.push(Diagnostic::error(
                    Some(span_of(path, &spanned.referenced)),
                    format!(
                        "unknown check `{}` (known: {})",
                        spanned.value,
                        Check::NAMES
                    ),
                ));
                None
            }
        },
    };
    let reload = match raw.reload {
        None => None,
        Some(spanned) if is_service_name(&spanned.value) => Some(spanned.value),
        Some(spanned) => {
            errors.push(Diagnostic::error(
                Some(span_of(path, &spanned.referenced)),
                format!("`{}` is not a service name", spanned.value),
            ));
            None
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Entry {
        name,
        description: raw.description,
        source,
        target,
        for_each,
        enabled,
        owner,
        group,
        mode,
        check,
        reload,
        span,
    })
}

/// What is wrong with a `for_each` value, if anything.
fn for_each_problem(for_each: &str) -> Option<String> {
    let valid_part = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    let parts: Vec<&str> = for_each.split('.').collect();
    let mut identifiers = 0;
    for part in &parts {
        let plain = if let Some((before, after)) = part.split_once("{{ identifier }}") {
            identifiers += 1;
            format!("{before}x{after}")
        } else {
            (*part).to_owned()
        };
        if !valid_part(&plain) {
            return Some(format!(
                "`for_each` must be a dynamic family pattern (`family.name_{{{{ identifier }}}}`) or a leadership path, not `{for_each}`"
            ));
        }
    }
    if identifiers > 1 {
        return Some(format!(
            "`for_each` `{for_each}` may contain `{{{{ identifier }}}}` only once"
        ));
    }
    None
}

fn account(
    path: &Arc<PathBuf>,
    raw: Option<Spanned<String>>,
    what: &str,
    errors: &mut Vec<Diagnostic>,
) -> String {
    match raw {
        None => "root".to_owned(),
        Some(spanned) => {
            let valid = !spanned.value.is_empty()
                && spanned
                    .value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$'));
            if !valid {
                errors.push(Diagnostic::error(
                    Some(span_of(path, &spanned.referenced)),
                    format!("{what} `{}` is not a user or group name", spanned.value),
                ));
            }
            spanned.value
        }
    }
}

/// `"0644"`, `"644"`, `"0o644"`, `"2775"` → permission bits.
fn parse_mode(text: &str) -> Option<u32> {
    let digits = text.strip_prefix("0o").unwrap_or(text);
    if digits.is_empty() || digits.len() > 4 || !digits.chars().all(|c| ('0'..='7').contains(&c)) {
        return None;
    }
    u32::from_str_radix(digits, 8).ok()
}

fn is_service_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'))
}

fn located<T>(path: &Arc<PathBuf>, spanned: Spanned<T>) -> Located<T> {
    Located {
        span: span_of(path, &spanned.referenced),
        value: spanned.value,
    }
}

fn span_of(path: &Arc<PathBuf>, location: &serde_saphyr::Location) -> Span {
    Span::new(
        Arc::clone(path),
        to_usize(location.line()).max(1),
        to_usize(location.column()).max(1),
    )
}

fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> Arc<PathBuf> {
        Arc::new(PathBuf::from("templates/test.yml"))
    }

    fn errors(text: &str) -> Vec<String> {
        parse(&path(), text)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn parses_a_complete_entry() {
        let text = "\
nginx_location:
  description: a location
  source: nginx/location.conf.tera
  for_each: containers.container_{{ identifier }}
  enabled: this.ports | length > 0
  target: /etc/nginx/web.d/c{{ index }}.conf
  owner: www-data
  group: adm
  mode: \"0640\"
  check: nginx
  reload: nginx
";
        let entries = parse(&path(), text).unwrap();
        assert_eq!(entries.len(), 1);
        let entry = &entries[0];
        assert_eq!(entry.name, "nginx_location");
        assert_eq!(entry.source.value, "nginx/location.conf.tera");
        assert_eq!(entry.source.span.line, 3);
        assert_eq!(entry.source.span.column, 11);
        assert_eq!(
            entry.for_each.as_ref().unwrap().value,
            "containers.container_{{ identifier }}"
        );
        assert!(
            matches!(&entry.enabled, Enabled::Expression(e) if e.value == "this.ports | length > 0")
        );
        assert_eq!(entry.owner, "www-data");
        assert_eq!(entry.group, "adm");
        assert_eq!(entry.mode, 0o640);
        assert_eq!(entry.check, Some(Check::Nginx));
        assert_eq!(entry.reload.as_deref(), Some("nginx"));
    }

    #[test]
    fn defaults_are_root_0644_always_enabled() {
        let entries = parse(&path(), "motd:\n  source: motd.tera\n  target: /etc/motd\n").unwrap();
        let entry = &entries[0];
        assert_eq!(
            (entry.owner.as_str(), entry.group.as_str()),
            ("root", "root")
        );
        assert_eq!(entry.mode, 0o644);
        assert_eq!(entry.enabled, Enabled::Always(true));
        assert_eq!(entry.check, None);
        assert!(entry.for_each.is_none());
    }

    #[test]
    fn empty_catalogue_has_no_entries() {
        assert!(parse(&path(), "# nothing yet\n").unwrap().is_empty());
    }

    #[test]
    fn unknown_key_is_reported_with_its_position() {
        let found = errors("motd:\n  source: motd.tera\n  target: /etc/motd\n  colour: blue\n");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("templates/test.yml:4:3: error: invalid template catalogue: "),
            "{}",
            found[0]
        );
        assert!(found[0].contains("colour"), "{}", found[0]);
    }

    #[test]
    fn every_semantic_error_is_reported_at_its_value() {
        let text = "\
motd:
  source: /abs/motd.tera
  target: etc/motd
  mode: \"0999\"
  check: apache
  for_each: Not A Path
";
        let found = errors(text);
        assert_eq!(
            found
                .iter()
                .map(|e| e.lines().next().unwrap())
                .collect::<Vec<_>>(),
            vec![
                "templates/test.yml:2:11: error: source `/abs/motd.tera` must be a path relative to the template directories",
                "templates/test.yml:3:11: error: target `etc/motd` must be an absolute path",
                "templates/test.yml:6:13: error: `for_each` must be a dynamic family pattern (`family.name_{{ identifier }}`) or a leadership path, not `Not A Path`",
                "templates/test.yml:4:9: error: mode `0999` must be octal permission bits written as a string, like \"0644\"",
                "templates/test.yml:5:10: error: unknown check `apache` (known: `nginx`)",
            ]
        );
    }

    #[test]
    fn syntax_error_points_into_the_file() {
        let found = errors("motd:\n  source: [unclosed\n");
        assert!(found[0].starts_with("templates/test.yml:"), "{}", found[0]);
        assert!(
            found[0].contains("error: invalid template catalogue"),
            "{}",
            found[0]
        );
    }
}

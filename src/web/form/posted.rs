//! The posted configuration form, read from its `(name, value)` pairs: the
//! control fields (`csrf`, `version`, `tab`, `mode`, `action`), the raw values
//! by variable path (`v:PATH` for one value, `v:PATH[i]` for the items of a
//! list or the rows of a leadership) and the identifiers typed in "add an
//! instance" inputs (`new:PATH`). Nothing is validated here beyond the shape:
//! the values go to the core as they were typed.

use std::collections::BTreeMap;

/// The largest list index accepted (a form never has that many rows).
pub const MAX_INDEX: usize = 9_999;

/// Prefix of a variable's form name.
pub const VALUE_PREFIX: &str = "v:";
/// Prefix of an "add an instance" input's form name.
pub const NEW_PREFIX: &str = "new:";

/// What the button pressed asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Action {
    /// Re-evaluate with the posted values, save nothing (also Enter in a field).
    #[default]
    Refresh,
    Save,
    /// Append an empty item to a list, or a row to a leadership (by its leader).
    Add(String),
    /// Remove an item of a list, or a row of a leadership.
    Remove(String, usize),
    /// Append the identifier typed in `new:PATH` to the list `PATH`.
    AddInstance(String),
    /// Remove this identifier from the list `PATH`.
    RemoveInstance(String, String),
}

impl Action {
    /// Parse an `action` value.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("unknown action `{text}`");
        match text {
            "refresh" => return Ok(Self::Refresh),
            "save" => return Ok(Self::Save),
            _ => {}
        }
        let (verb, rest) = text.split_once(':').ok_or_else(bad)?;
        match verb {
            "add" if !rest.is_empty() => Ok(Self::Add(rest.to_owned())),
            "add-instance" if !rest.is_empty() => Ok(Self::AddInstance(rest.to_owned())),
            "remove" => {
                let (path, index) = rest.rsplit_once(':').ok_or_else(bad)?;
                let index = parse_index(index).ok_or_else(bad)?;
                Ok(Self::Remove(path.to_owned(), index))
            }
            "remove-instance" => {
                // The identifier comes last and may itself contain `:`, the path not.
                let (path, identifier) = rest.split_once(':').ok_or_else(bad)?;
                Ok(Self::RemoveInstance(path.to_owned(), identifier.to_owned()))
            }
            _ => Err(bad()),
        }
    }

    /// The `action` value of this action.
    #[must_use]
    pub fn to_value(&self) -> String {
        match self {
            Self::Refresh => "refresh".to_owned(),
            Self::Save => "save".to_owned(),
            Self::Add(path) => format!("add:{path}"),
            Self::Remove(path, index) => format!("remove:{path}:{index}"),
            Self::AddInstance(path) => format!("add-instance:{path}"),
            Self::RemoveInstance(path, identifier) => {
                format!("remove-instance:{path}:{identifier}")
            }
        }
    }
}

fn parse_index(text: &str) -> Option<usize> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|i| *i <= MAX_INDEX)
}

/// The value(s) posted for one variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostedValue {
    Single(String),
    /// Items by index (a list, or one column of a leadership).
    Items(BTreeMap<usize, String>),
}

impl PostedValue {
    /// The items in index order (a single value is a one-item list).
    #[must_use]
    pub fn items(&self) -> Vec<&str> {
        match self {
            Self::Single(v) => vec![v.as_str()],
            Self::Items(items) => items.values().map(String::as_str).collect(),
        }
    }
}

/// The posted form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Posted {
    pub csrf: Option<String>,
    pub version: Option<String>,
    pub tab: Option<String>,
    pub mode: Option<String>,
    pub action: Action,
    pub values: BTreeMap<String, PostedValue>,
    pub new_identifiers: BTreeMap<String, String>,
}

impl Posted {
    /// Read the pairs; a shape error (unknown field, bad index, a value posted
    /// twice) is refused whole.
    pub fn parse(pairs: Vec<(String, String)>) -> Result<Self, String> {
        let mut posted = Self::default();
        let mut action = None;
        for (name, value) in pairs {
            let once = |slot: &mut Option<String>, value: String| {
                if slot.is_some() {
                    Err(format!("field `{name}` posted twice"))
                } else {
                    *slot = Some(value);
                    Ok(())
                }
            };
            match name.as_str() {
                "csrf" => once(&mut posted.csrf, value)?,
                "version" => once(&mut posted.version, value)?,
                "tab" => once(&mut posted.tab, value)?,
                "mode" => once(&mut posted.mode, value)?,
                "action" => once(&mut action, value)?,
                _ => {
                    if let Some(path) = name.strip_prefix(NEW_PREFIX) {
                        if posted
                            .new_identifiers
                            .insert(path.to_owned(), value)
                            .is_some()
                        {
                            return Err(format!("field `{name}` posted twice"));
                        }
                    } else if let Some(rest) = name.strip_prefix(VALUE_PREFIX) {
                        posted.add_value(rest, value)?;
                    } else {
                        return Err(format!("unknown field `{name}`"));
                    }
                }
            }
        }
        if let Some(action) = action {
            posted.action = Action::parse(&action)?;
        }
        Ok(posted)
    }

    fn add_value(&mut self, name: &str, value: String) -> Result<(), String> {
        let twice = || format!("field `{VALUE_PREFIX}{name}` posted twice");
        let mixed = || format!("field `{VALUE_PREFIX}{name}` mixes one value and a list");
        if let Some(open) = name.strip_suffix(']') {
            let (path, index) = open
                .rsplit_once('[')
                .ok_or_else(|| format!("bad field name `{VALUE_PREFIX}{name}`"))?;
            let index = parse_index(index)
                .ok_or_else(|| format!("bad index in field `{VALUE_PREFIX}{name}`"))?;
            let entry = self
                .values
                .entry(path.to_owned())
                .or_insert_with(|| PostedValue::Items(BTreeMap::new()));
            match entry {
                PostedValue::Items(items) => {
                    if items.insert(index, value).is_some() {
                        return Err(twice());
                    }
                }
                PostedValue::Single(_) => return Err(mixed()),
            }
        } else {
            if name.is_empty() || name.contains(['[', ']']) {
                return Err(format!("bad field name `{VALUE_PREFIX}{name}`"));
            }
            if self.values.contains_key(name) {
                return Err(match self.values.get(name) {
                    Some(PostedValue::Items(_)) => mixed(),
                    _ => twice(),
                });
            }
            self.values
                .insert(name.to_owned(), PostedValue::Single(value));
        }
        Ok(())
    }
}

/// The form name of a variable's single value.
#[must_use]
pub fn value_name(path: &str) -> String {
    format!("{VALUE_PREFIX}{path}")
}

/// The form name of a list item or leadership row.
#[must_use]
pub fn item_name(path: &str, index: usize) -> String {
    format!("{VALUE_PREFIX}{path}[{index}]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn values_lists_and_controls_are_read() {
        let posted = Posted::parse(pairs(&[
            ("csrf", "t"),
            ("version", "abc"),
            ("tab", "containers"),
            ("mode", "standard"),
            ("action", "save"),
            ("v:general.name", "web"),
            ("v:containers.names[1]", "b"),
            ("v:containers.names[0]", "a"),
            ("new:containers.names", "c"),
        ]))
        .unwrap();
        assert_eq!(posted.csrf.as_deref(), Some("t"));
        assert_eq!(posted.version.as_deref(), Some("abc"));
        assert_eq!(posted.action, Action::Save);
        assert_eq!(
            posted.values["general.name"],
            PostedValue::Single("web".into())
        );
        assert_eq!(posted.values["containers.names"].items(), ["a", "b"]);
        assert_eq!(posted.new_identifiers["containers.names"], "c");
    }

    #[test]
    fn the_default_action_is_refresh() {
        assert_eq!(Posted::parse(Vec::new()).unwrap().action, Action::Refresh);
    }

    #[test]
    fn actions_round_trip() {
        for action in [
            Action::Refresh,
            Action::Save,
            Action::Add("a.b".into()),
            Action::Remove("a.b".into(), 3),
            Action::AddInstance("containers.names".into()),
            Action::RemoveInstance("containers.names".into(), "my:app".into()),
        ] {
            assert_eq!(Action::parse(&action.to_value()).unwrap(), action);
        }
    }

    #[test]
    fn malformed_forms_are_refused() {
        for bad in [
            vec![("nope", "x")],
            vec![("action", "explode")],
            vec![("action", "remove:a.b:x")],
            vec![("action", "remove:a.b:100000")],
            vec![("action", "add:")],
            vec![("v:a[x]", "1")],
            vec![("v:a[99999999999]", "1")],
            vec![("v:a[1", "1")],
            vec![("v:a", "1"), ("v:a", "2")],
            vec![("v:a", "1"), ("v:a[0]", "2")],
            vec![("v:a[0]", "1"), ("v:a", "2")],
            vec![("v:a[0]", "1"), ("v:a[0]", "2")],
            vec![("csrf", "1"), ("csrf", "2")],
            vec![("v:", "1")],
        ] {
            assert!(Posted::parse(pairs(&bad)).is_err(), "{bad:?}");
        }
    }
}

//! What rendering needs from a resolved configuration: the template context
//! (nested families, leaderships as arrays of row objects) and the instances
//! of a dynamic family in order. The configuration core implements it; tests
//! and benchmarks use [`TreeConfiguration`].

use serde_json::Value;

/// One instance of a dynamic family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicInstance {
    /// The identifier as written (`my-apache-app`).
    pub identifier: String,
    /// The instance's path (`containers.container_my_apache_app`).
    pub path: String,
}

/// A configuration templates can read.
pub trait Configuration {
    /// The template context: one key per top-level family, nested objects by
    /// family, dynamic family instances under their normalised name, each
    /// variable its value, a leadership an array of row objects keyed by short names.
    fn tree(&self) -> Value;

    /// The instances of the dynamic family `pattern`
    /// (`containers.container_{{ identifier }}`), in identifier order;
    /// `None` when no such dynamic family exists.
    fn dynamic_instances(&self, pattern: &str) -> Option<Vec<DynamicInstance>>;

    /// The main namespace prefixing every path, if any.
    fn namespace(&self) -> Option<&str> {
        None
    }
}

/// A configuration given as its tree plus its dynamic instances (tests, benchmarks).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TreeConfiguration {
    pub tree: Value,
    /// (pattern, instances) pairs.
    pub dynamic: Vec<(String, Vec<DynamicInstance>)>,
}

impl Configuration for TreeConfiguration {
    fn tree(&self) -> Value {
        self.tree.clone()
    }

    fn dynamic_instances(&self, pattern: &str) -> Option<Vec<DynamicInstance>> {
        self.dynamic
            .iter()
            .find(|(known, _)| known == pattern)
            .map(|(_, instances)| instances.clone())
    }
}

/// Rougail's normalisation of a dynamic identifier into a family name:
/// lowercase; `-`, space and `.` become `_`; accents stripped.
#[must_use]
pub fn normalize_identifier(identifier: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    identifier
        .nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if matches!(c, '-' | ' ' | '.') { '_' } else { c })
        .collect()
}

/// Look a dotted path up in a tree.
#[must_use]
pub fn lookup<'a>(tree: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(tree, |node, part| node.as_object()?.get(part))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_normalise_like_rougail() {
        assert_eq!(normalize_identifier("my-apache-app"), "my_apache_app");
        assert_eq!(normalize_identifier("Élève Web.2"), "eleve_web_2");
    }

    #[test]
    fn lookup_follows_dotted_paths() {
        let tree = serde_json::json!({"a": {"b": {"c": 3}}});
        assert_eq!(lookup(&tree, "a.b.c"), Some(&serde_json::json!(3)));
        assert_eq!(lookup(&tree, "a.x"), None);
    }
}

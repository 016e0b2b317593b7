//! [`TemplateSet`] compiled once into tera (autoescape off) → [`Renderer`],
//! which renders every catalogue entry for a configuration into memory.
//! Undefined variables are errors; every error names the template file, its
//! line and column, and what was at fault. Pure: no file is read or written.

use std::collections::{BTreeMap, HashMap};
use std::path::{Component, PathBuf};
use std::sync::Arc;

use serde_json::Value as Json;
use tera::{Context, Tera};

use super::catalogue::{Enabled, Entry};
use super::configuration::{Configuration, lookup};
use super::rendered::{Rendered, RenderedFile};
use super::template_set::{Source, TemplateSet};
use crate::diagnostic::{Diagnostic, Diagnostics, Span};

/// Templates and catalogue, parsed and checked, ready to render.
pub struct Renderer {
    tera: Tera,
    entries: Vec<Entry>,
    /// Every template known to tera by name → where its text comes from, so
    /// tera's errors point at real files and lines.
    origins: HashMap<String, Origin>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("entries", &self.entries)
            .finish_non_exhaustive()
    }
}

/// Where a tera template's text comes from.
#[derive(Debug, Clone)]
enum Origin {
    /// A template file.
    File(Source),
    /// An expression of a catalogue entry (`target`, `enabled`): the position
    /// of the value in the catalogue file, and the prefix tera sees before it.
    Catalogue { span: Span, prefix_len: usize },
}

const TARGET: &str = "target";
const ENABLED: &str = "enabled";
const ENABLED_PREFIX: &str = "{% if ";

fn internal_name(entry: &str, field: &str) -> String {
    format!("catalogue:{entry}:{field}")
}

/// One instance a catalogue entry is rendered for.
struct Instance {
    path: Option<String>,
    identifier: Option<String>,
    index: usize,
    this: Option<tera::Value>,
}

impl Renderer {
    /// Compile every template and catalogue expression; report every error.
    pub fn new(set: &TemplateSet) -> Result<Self, Diagnostics> {
        let mut tera = Tera::default();
        tera.autoescape_on(Vec::<&'static str>::new());
        let mut origins = HashMap::new();
        let mut errors = Vec::new();
        let mut templates = Vec::new();
        for (name, source) in &set.sources {
            templates.push((name.clone(), source.text.clone()));
            origins.insert(name.clone(), Origin::File(source.clone()));
        }
        for entry in &set.entries {
            if !set.sources.contains_key(&entry.source.value) {
                errors.push(Diagnostic::error(
                    Some(entry.source.span.clone()),
                    format!(
                        "template `{}`: source `{}` is not in any template directory",
                        entry.name, entry.source.value
                    ),
                ));
            }
            templates.push((
                internal_name(&entry.name, TARGET),
                entry.target.value.clone(),
            ));
            origins.insert(
                internal_name(&entry.name, TARGET),
                Origin::Catalogue {
                    span: entry.target.span.clone(),
                    prefix_len: 0,
                },
            );
            if let Enabled::Expression(expression) = &entry.enabled {
                templates.push((
                    internal_name(&entry.name, ENABLED),
                    format!("{ENABLED_PREFIX}{} %}}1{{% endif %}}", expression.value),
                ));
                origins.insert(
                    internal_name(&entry.name, ENABLED),
                    Origin::Catalogue {
                        span: expression.span.clone(),
                        prefix_len: ENABLED_PREFIX.len(),
                    },
                );
            }
        }
        // All at once, so templates can extend or include each other in any order.
        if let Err(error) =
            tera.add_raw_templates(templates.iter().map(|(n, t)| (n.as_str(), t.as_str())))
        {
            // Parse each alone to report every syntax error against its own
            // file; a missing parent only shows in the batch error.
            let before = errors.len();
            for (name, text) in &templates {
                let mut alone = Tera::default();
                if let Err(error) = alone.add_raw_template(name, text) {
                    if !matches!(error.kind(), tera::ErrorKind::MissingParent { .. }) {
                        errors.push(diagnostic(&origins, &error, None));
                    }
                }
            }
            if errors.len() == before {
                errors.push(diagnostic(&origins, &error, None));
            }
        }
        if errors.is_empty() {
            Ok(Self {
                tera,
                entries: set.entries.clone(),
                origins,
            })
        } else {
            Err(Diagnostics(errors))
        }
    }

    /// Render every entry for `config`. Nothing is produced unless everything
    /// renders: every error is collected and returned.
    pub fn render(&self, config: &dyn Configuration) -> Result<Rendered, Diagnostics> {
        let tree = config.tree();
        let mut base = Context::new();
        if let Json::Object(families) = &tree {
            for (name, value) in families {
                base.insert_value(name.clone(), tera::Value::from_serializable(value));
            }
        }
        let mut files: BTreeMap<PathBuf, RenderedFile> = BTreeMap::new();
        let mut errors = Vec::new();
        for entry in &self.entries {
            if entry.enabled == Enabled::Always(false) {
                continue;
            }
            let instances = match instances(entry, config, &tree) {
                Ok(instances) => instances,
                Err(error) => {
                    errors.push(error);
                    continue;
                }
            };
            for instance in instances {
                match self.render_instance(entry, &base, &instance) {
                    Ok(None) => {}
                    Ok(Some(file)) => {
                        if let Some(previous) = files.get(&file.path) {
                            errors.push(Diagnostic::error(
                                Some(entry.target.span.clone()),
                                format!(
                                    "template `{}`{} renders `{}`, already rendered by template `{}`{}",
                                    entry.name,
                                    for_instance(file.instance.as_deref()),
                                    file.path.display(),
                                    previous.template,
                                    for_instance(previous.instance.as_deref()),
                                ),
                            ));
                        } else {
                            files.insert(file.path.clone(), file);
                        }
                    }
                    Err(error) => errors.push(error),
                }
            }
        }
        if errors.is_empty() {
            Ok(Rendered {
                files: files.into_values().collect(),
            })
        } else {
            Err(Diagnostics(errors))
        }
    }

    fn render_instance(
        &self,
        entry: &Entry,
        base: &Context,
        instance: &Instance,
    ) -> Result<Option<RenderedFile>, Diagnostic> {
        let mut context = base.clone();
        if let Some(this) = &instance.this {
            context.insert_value("this", this.clone());
            context.insert("index", &instance.index);
            context.insert("identifier", &instance.identifier);
        }
        let during = instance.path.as_deref();
        if let Enabled::Expression(_) = &entry.enabled {
            let enabled = self
                .tera
                .render(&internal_name(&entry.name, ENABLED), &context)
                .map_err(|error| diagnostic(&self.origins, &error, Some((entry, during))))?;
            if enabled.is_empty() {
                return Ok(None);
            }
        }
        let target = self
            .tera
            .render(&internal_name(&entry.name, TARGET), &context)
            .map_err(|error| diagnostic(&self.origins, &error, Some((entry, during))))?;
        let path = checked_target(entry, &target, during)?;
        let contents = self
            .tera
            .render(&entry.source.value, &context)
            .map_err(|error| diagnostic(&self.origins, &error, Some((entry, during))))?;
        Ok(Some(RenderedFile {
            path,
            contents,
            owner: entry.owner.clone(),
            group: entry.group.clone(),
            mode: entry.mode,
            check: entry.check,
            reload: entry.reload.clone(),
            template: entry.name.clone(),
            instance: instance.path.clone(),
        }))
    }
}

/// The rendered target must be a clean absolute path.
fn checked_target(
    entry: &Entry,
    target: &str,
    during: Option<&str>,
) -> Result<PathBuf, Diagnostic> {
    let path = PathBuf::from(target);
    let clean = target.starts_with('/')
        && !target.ends_with('/')
        && !target.contains('\n')
        && path
            .components()
            .all(|part| matches!(part, Component::RootDir | Component::Normal(_)));
    if clean {
        Ok(path)
    } else {
        Err(Diagnostic::error(
            Some(entry.target.span.clone()),
            format!(
                "template `{}`{}: target renders to `{target}`, not a clean absolute file path",
                entry.name,
                for_instance(during)
            ),
        ))
    }
}

fn for_instance(instance: Option<&str>) -> String {
    instance.map_or_else(String::new, |path| format!(" for `{path}`"))
}

/// The instances an entry is rendered for: one without `for_each`; otherwise
/// one per dynamic family instance, or per row of a leadership (or item of a
/// multi variable).
fn instances(
    entry: &Entry,
    config: &dyn Configuration,
    tree: &Json,
) -> Result<Vec<Instance>, Diagnostic> {
    let Some(for_each) = &entry.for_each else {
        return Ok(vec![Instance {
            path: None,
            identifier: None,
            index: 1,
            this: None,
        }]);
    };
    let unknown = |what: &str| {
        Diagnostic::error(
            Some(for_each.span.clone()),
            format!(
                "template `{}`: `for_each` `{}` {what}",
                entry.name, for_each.value
            ),
        )
    };
    if for_each.value.contains("{{ identifier }}") {
        let Some(found) = config.dynamic_instances(&for_each.value) else {
            return Err(unknown("is not a dynamic family of the configuration"));
        };
        let mut instances = Vec::with_capacity(found.len());
        for (position, instance) in found.into_iter().enumerate() {
            // A disabled instance is absent from the tree: no file for it.
            let Some(value) = lookup(tree, &instance.path) else {
                continue;
            };
            instances.push(Instance {
                this: Some(tera::Value::from_serializable(value)),
                path: Some(instance.path),
                identifier: Some(instance.identifier),
                index: position + 1,
            });
        }
        return Ok(instances);
    }
    let Some(Json::Array(rows)) = lookup(tree, &for_each.value) else {
        return Err(unknown(
            "is neither a dynamic family, a leadership nor a multi-valued variable of the configuration",
        ));
    };
    Ok(rows
        .iter()
        .enumerate()
        .map(|(position, row)| {
            // A row's identifier is its leader's value (the first field).
            let identifier = match row {
                Json::Object(fields) => fields.values().next().map(scalar_text),
                other => Some(scalar_text(other)),
            };
            Instance {
                path: Some(format!("{}[{}]", for_each.value, position + 1)),
                identifier,
                index: position + 1,
                this: Some(tera::Value::from_serializable(row)),
            }
        })
        .collect())
}

fn scalar_text(value: &Json) -> String {
    match value {
        Json::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A tera error as a diagnostic at the real file, line and column.
fn diagnostic(
    origins: &HashMap<String, Origin>,
    error: &tera::Error,
    during: Option<(&Entry, Option<&str>)>,
) -> Diagnostic {
    let context = during.map_or_else(String::new, |(entry, instance)| {
        format!(
            " (rendering template `{}`{})",
            entry.name,
            for_instance(instance)
        )
    });
    let report = match error.kind() {
        tera::ErrorKind::SyntaxError(report) | tera::ErrorKind::RenderingError(report) => {
            Some(report)
        }
        _ => None,
    };
    let Some(report) = report else {
        return Diagnostic::error(None, format!("{}{context}", message_of(error)));
    };
    let span = report.span();
    let origin = origins.get(report.filename());
    // Name what was being rendered (`this.ports[0].host_prt`): tera's message
    // does not always say.
    let expression = match (error.kind(), origin) {
        (tera::ErrorKind::RenderingError(_), Some(Origin::File(source))) => {
            expression_at(&source.text, span.range.clone())
        }
        _ => None,
    };
    let text = lowercase_first(report.message().trim()).replace(". Available ", "; available ");
    let message = match expression {
        Some(expression) if text == "tried to render a variable that is undefined" => {
            format!("`{expression}` is not defined{context}")
        }
        Some(expression) => format!("`{expression}`: {text}{context}"),
        None => format!("{text}{context}"),
    };
    match origin {
        Some(Origin::File(source)) => Diagnostic::error(
            Some(Span::new(
                Arc::clone(&source.path),
                span.start_line,
                span.start_col + 1,
            )),
            message,
        )
        .with_source(&source.text),
        Some(Origin::Catalogue {
            span: at,
            prefix_len,
        }) => {
            // Single-line expressions: shift the column by the tera offset.
            let column = if span.start_line == 1 {
                at.column + span.start_col.saturating_sub(*prefix_len)
            } else {
                at.column
            };
            Diagnostic::error(
                Some(Span::new(Arc::clone(&at.path), at.line, column)),
                message,
            )
        }
        None => Diagnostic::error(None, format!("`{}`: {message}", report.filename())),
    }
}

/// The variable expression around a span (`this.ports[0].host_prt` when tera
/// points at `host_prt`).
fn expression_at(text: &str, range: std::ops::Range<usize>) -> Option<String> {
    let part = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']');
    let before = text.get(..range.start)?;
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| part(*c))
        .last()
        .map_or(range.start, |(i, _)| i);
    let expression = text.get(start..range.end)?.trim();
    (!expression.is_empty() && !expression.contains('\n') && expression.len() <= 100)
        .then(|| expression.to_owned())
}

/// The message of an error and of its causes, joined.
fn message_of(error: &tera::Error) -> String {
    let mut text = lowercase_first(&error.to_string());
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn lowercase_first(text: &str) -> String {
    let text = text.trim_end_matches('.');
    let mut chars = text.chars();
    match chars.next() {
        // Keep acronyms and names (`UTF-8`, `Field`→`field`).
        Some(first) if chars.clone().next().is_some_and(char::is_lowercase) => {
            first.to_lowercase().chain(chars).collect()
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::catalogue::{self, Check, Located};
    use super::super::configuration::{DynamicInstance, TreeConfiguration};
    use super::super::template_set::TemplateFile;
    use super::*;

    fn set(files: &[(&str, &str)]) -> TemplateSet {
        TemplateSet::from_files(
            files
                .iter()
                .map(|(name, text)| TemplateFile {
                    directory: 0,
                    name: (*name).to_owned(),
                    path: PathBuf::from(format!("templates/{name}")),
                    text: (*text).to_owned(),
                })
                .collect(),
        )
        .unwrap()
    }

    fn located(path: &str, line: usize, column: usize, value: &str) -> Located<String> {
        Located {
            value: value.to_owned(),
            span: Span::new(Arc::new(PathBuf::from(path)), line, column),
        }
    }

    fn containers() -> TreeConfiguration {
        TreeConfiguration {
            tree: json!({
                "containers": {
                    "names": ["web", "db"],
                    "container_web": {"name": "web", "ports": [{"container_port": "80", "host_port": "8080"}]},
                    "container_db": {"name": "db", "ports": []}
                }
            }),
            dynamic: vec![(
                "containers.container_{{ identifier }}".to_owned(),
                vec![
                    DynamicInstance {
                        identifier: "web".to_owned(),
                        path: "containers.container_web".to_owned(),
                    },
                    DynamicInstance {
                        identifier: "db".to_owned(),
                        path: "containers.container_db".to_owned(),
                    },
                ],
            )],
        }
    }

    const CATALOGUE: &str = "\
site:
  source: site.tera
  for_each: containers.container_{{ identifier }}
  enabled: this.ports | length > 0
  target: /etc/site/{{ index }}-{{ identifier }}.conf
  mode: \"0640\"
  check: nginx
  reload: nginx
";

    #[test]
    fn renders_one_file_per_enabled_instance_with_index_and_identifier() {
        let renderer = Renderer::new(&set(&[
            ("c.yml", CATALOGUE),
            (
                "site.tera",
                "{{ this.name }} {{ index }} {{ identifier }} {% for p in this.ports %}{{ p.host_port }}{% endfor %} {{ containers.names | join(sep=\",\") }}\n",
            ),
        ]))
        .unwrap();
        let rendered = renderer.render(&containers()).unwrap();
        assert_eq!(rendered.files.len(), 1);
        let file = &rendered.files[0];
        assert_eq!(file.path, PathBuf::from("/etc/site/1-web.conf"));
        assert_eq!(file.contents, "web 1 web 8080 web,db\n");
        assert_eq!(file.mode, 0o640);
        assert_eq!(file.check, Some(Check::Nginx));
        assert_eq!(file.reload.as_deref(), Some("nginx"));
        assert_eq!(file.instance.as_deref(), Some("containers.container_web"));
    }

    #[test]
    fn autoescape_is_off_even_for_xml_and_html_targets() {
        let renderer = Renderer::new(&set(&[
            (
                "c.yml",
                "x:\n  source: page.html\n  target: /srv/page.xml\n",
            ),
            ("page.html", "{{ containers.text }}"),
        ]))
        .unwrap();
        let config = TreeConfiguration {
            tree: json!({"containers": {"text": "<a & b>"}}),
            dynamic: vec![],
        };
        assert_eq!(
            renderer.render(&config).unwrap().files[0].contents,
            "<a & b>"
        );
    }

    #[test]
    fn undefined_field_names_the_file_line_and_field() {
        let renderer = Renderer::new(&set(&[
            ("c.yml", CATALOGUE),
            ("site.tera", "line one\n{{ this.nmae }}\n"),
        ]))
        .unwrap();
        let errors = renderer.render(&containers()).unwrap_err();
        assert_eq!(errors.0.len(), 1);
        let text = errors.0[0].to_string();
        assert!(text.starts_with("templates/site.tera:2:"), "{text}");
        assert!(text.contains("`nmae` is not defined"), "{text}");
        assert!(
            text.contains("(rendering template `site` for `containers.container_web`)"),
            "{text}"
        );
        assert!(text.contains("2 | {{ this.nmae }}"), "{text}");
    }

    #[test]
    fn undefined_variable_is_an_error_not_an_empty_string() {
        let renderer = Renderer::new(&set(&[
            ("c.yml", "x:\n  source: x.tera\n  target: /x\n"),
            ("x.tera", "{{ nothing_here }}"),
        ]))
        .unwrap();
        let text = renderer.render(&containers()).unwrap_err().to_string();
        assert!(text.starts_with("templates/x.tera:1:"), "{text}");
        assert!(text.contains("`nothing_here` is not defined"), "{text}");
    }

    #[test]
    fn syntax_error_in_a_template_is_reported_at_construction() {
        let errors = Renderer::new(&set(&[
            ("c.yml", "x:\n  source: x.tera\n  target: /x\n"),
            ("x.tera", "ok\n{% if %}\n"),
        ]))
        .unwrap_err();
        assert!(
            errors.0[0].to_string().starts_with("templates/x.tera:2:"),
            "{}",
            errors
        );
    }

    #[test]
    fn missing_source_is_reported_at_the_catalogue_line() {
        let errors = Renderer::new(&set(&[(
            "c.yml",
            "x:\n  source: nope.tera\n  target: /x\n",
        )]))
        .unwrap_err();
        assert_eq!(
            errors.0[0].to_string().lines().next().unwrap(),
            "templates/c.yml:2:11: error: template `x`: source `nope.tera` is not in any template directory"
        );
    }

    #[test]
    fn bad_enabled_expression_points_into_the_catalogue() {
        let errors = Renderer::new(&set(&[
            (
                "c.yml",
                "x:\n  source: x.tera\n  target: /x\n  enabled: this.ports |\n",
            ),
            ("x.tera", ""),
        ]))
        .unwrap_err();
        assert!(
            errors.0[0].to_string().starts_with("templates/c.yml:4:"),
            "{errors}"
        );
    }

    #[test]
    fn two_instances_rendering_the_same_target_is_an_error() {
        let renderer = Renderer::new(&set(&[
            (
                "c.yml",
                "x:\n  source: x.tera\n  for_each: containers.container_{{ identifier }}\n  target: /same\n",
            ),
            ("x.tera", ""),
        ]))
        .unwrap();
        let text = renderer.render(&containers()).unwrap_err().to_string();
        assert!(
            text.contains(
                "renders `/same`, already rendered by template `x` for `containers.container_web`"
            ),
            "{text}"
        );
    }

    #[test]
    fn target_must_render_to_a_clean_absolute_path() {
        let renderer = Renderer::new(&set(&[
            (
                "c.yml",
                "x:\n  source: x.tera\n  target: /etc/{{ containers.sub }}\n",
            ),
            ("x.tera", ""),
        ]))
        .unwrap();
        let config = TreeConfiguration {
            tree: json!({"containers": {"sub": "../shadow"}}),
            dynamic: vec![],
        };
        let text = renderer.render(&config).unwrap_err().to_string();
        assert!(
            text.contains("target renders to `/etc/../shadow`"),
            "{text}"
        );
    }

    #[test]
    fn for_each_over_a_leadership_gives_rows_and_leader_identifiers() {
        let renderer = Renderer::new(&set(&[
            (
                "c.yml",
                "x:\n  source: x.tera\n  for_each: net.routes\n  target: /r/{{ index }}-{{ identifier }}\n",
            ),
            ("x.tera", "{{ this.gateway }}"),
        ]))
        .unwrap();
        let config = TreeConfiguration {
            tree: json!({"net": {"routes": [
                {"network": "a", "gateway": "ga"},
                {"network": "b", "gateway": "gb"}
            ]}}),
            dynamic: vec![],
        };
        let rendered = renderer.render(&config).unwrap();
        let files: Vec<_> = rendered
            .files
            .iter()
            .map(|f| (f.path.display().to_string(), f.contents.as_str()))
            .collect();
        assert_eq!(
            files,
            vec![("/r/1-a".to_owned(), "ga"), ("/r/2-b".to_owned(), "gb")]
        );
    }

    #[test]
    fn for_each_over_a_multi_value_gives_one_file_per_value() {
        let renderer = Renderer::new(&set(&[
            (
                "c.yml",
                "x:\n  source: x.tera\n  for_each: containers.names\n  enabled: this != \"db\"\n  target: /n/{{ index }}-{{ this }}\n",
            ),
            ("x.tera", "{{ identifier }} of {{ containers.names | length }}"),
        ]))
        .unwrap();
        let files: Vec<_> = renderer
            .render(&containers())
            .unwrap()
            .files
            .iter()
            .map(|f| (f.path.display().to_string(), f.contents.clone()))
            .collect();
        assert_eq!(files, vec![("/n/1-web".to_owned(), "web of 2".to_owned())]);
    }

    #[test]
    fn unknown_for_each_is_an_error_at_the_catalogue() {
        let renderer = Renderer::new(&set(&[
            (
                "c.yml",
                "x:\n  source: x.tera\n  for_each: nowhere.to_be\n  target: /x\n",
            ),
            ("x.tera", ""),
        ]))
        .unwrap();
        let text = renderer.render(&containers()).unwrap_err().to_string();
        assert!(
            text.starts_with(
                "templates/c.yml:3:13: error: template `x`: `for_each` `nowhere.to_be` is neither"
            ),
            "{text}"
        );
    }

    #[test]
    fn every_failing_instance_is_reported() {
        let renderer = Renderer::new(&set(&[
            (
                "c.yml",
                "x:\n  source: x.tera\n  for_each: containers.container_{{ identifier }}\n  target: /x/{{ index }}\n",
            ),
            ("x.tera", "{{ this.missing }}"),
        ]))
        .unwrap();
        assert_eq!(renderer.render(&containers()).unwrap_err().0.len(), 2);
    }

    #[test]
    fn hand_built_entries_render_too() {
        let entry = catalogue::Entry {
            name: "x".to_owned(),
            description: None,
            source: located("c.yml", 1, 1, "x.tera"),
            target: located("c.yml", 1, 1, "/x"),
            for_each: None,
            enabled: Enabled::Always(true),
            owner: "root".to_owned(),
            group: "root".to_owned(),
            mode: 0o600,
            check: None,
            reload: None,
            span: located("c.yml", 1, 1, "").span,
        };
        let mut templates = set(&[("x.tera", "hello")]);
        templates.entries.push(entry);
        let rendered = Renderer::new(&templates)
            .unwrap()
            .render(&containers())
            .unwrap();
        assert_eq!(rendered.files[0].contents, "hello");
    }
}
#[cfg(test)]
mod inheritance_tests {
    use std::path::PathBuf;

    use serde_json::json;

    use super::super::configuration::TreeConfiguration;
    use super::super::template_set::{TemplateFile, TemplateSet};
    use super::Renderer;

    fn set(files: &[(&str, &str)]) -> TemplateSet {
        TemplateSet::from_files(
            files
                .iter()
                .map(|(name, text)| TemplateFile {
                    directory: 0,
                    name: (*name).to_owned(),
                    path: PathBuf::from(*name),
                    text: (*text).to_owned(),
                })
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn a_missing_parent_template_is_reported() {
        let error = Renderer::new(&set(&[
            ("c.yml", "x:\n  source: child.tera\n  target: /x\n"),
            ("child.tera", "{% extends \"gone.tera\" %}"),
        ]))
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "error: template 'child.tera' is inheriting from 'gone.tera', which doesn't exist or isn't loaded"
        );
    }

    #[test]
    fn a_template_may_extend_or_include_one_that_sorts_after_it() {
        let files = [
            ("c.yml", "x:\n  source: a-child.tera\n  target: /x\n"),
            (
                "a-child.tera",
                "{% extends \"z-base.tera\" %}{% block body %}child {% include \"z-part.tera\" %}{% endblock %}",
            ),
            ("z-base.tera", "[{% block body %}{% endblock %}]"),
            ("z-part.tera", "part"),
        ];
        let set = set(&files);
        let config = TreeConfiguration {
            tree: json!({}),
            dynamic: vec![],
        };
        let rendered = Renderer::new(&set).unwrap().render(&config).unwrap();
        assert_eq!(rendered.files[0].contents, "[child part]");
    }
}

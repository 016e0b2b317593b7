//! The resolved configuration → the form ([`FormView`]): one tab per
//! top-level family (families with nothing to show are left out), nested
//! families as sections, one section per dynamic family instance followed by
//! an "add" control, leaderships as tables, hidden and disabled entries and
//! those above the chosen mode absent, frozen ones read-only, secrets never
//! filled. Values the administrator typed and has not saved (`overlay`) are
//! shown as typed. Pure: no I/O.

use std::collections::{BTreeMap, HashMap};

use crate::dictionary::schema::{CalcKind, Dynamic, FamilyKind, Mode, NodeId, NodeKind};
use crate::dictionary::{Value, VarType};
use crate::values::{Config, Entry, EntryKind};
use crate::web::i18n::{self, Texts};

use super::posted::{self, Action};
use super::translations::Translations;
use super::view::{
    AddInstanceView, ColumnView, FieldView, FormView, InstanceAction, Item, RowView, SectionView,
    Slot, SummaryItem, TabView, TableView, Widget, html_id, inline_code,
};

/// A problem to show next to a field: the core's, or a cross-container check's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormIssue {
    pub path: String,
    /// The list item or leadership row.
    pub index: Option<usize>,
    pub message: String,
    /// An error (blocks saving) or a warning.
    pub error: bool,
}

/// What the form is built from.
#[derive(Debug)]
pub struct Input<'a> {
    pub config: &'a Config,
    pub mode: Mode,
    pub t: &'static Texts,
    pub translations: &'a Translations,
    /// Texts typed and not saved, by path (shown instead of the values).
    pub overlay: &'a BTreeMap<String, Vec<String>>,
    pub issues: &'a [FormIssue],
}

/// The name of the tab of variables that are in no family.
pub const GENERAL_TAB: &str = "_general";

/// The texts a field shows for an entry: one per value (a single value is one
/// text, empty for null), one per row for a follower; secrets always empty.
#[must_use]
pub fn entry_texts(config: &Config, entry: &Entry) -> Vec<String> {
    let secret = config
        .schema()
        .variable(entry.node)
        .is_some_and(crate::dictionary::Variable::is_secret);
    let multi = config
        .schema()
        .variable(entry.node)
        .is_some_and(|v| v.multi);
    let text = |v: &Value| if secret { String::new() } else { v.display() };
    match (&entry.value, entry.kind) {
        (Value::List(items), EntryKind::Leader | EntryKind::Follower) => {
            items.iter().map(text).collect()
        }
        (Value::List(items), _) if multi => items.iter().map(text).collect(),
        (Value::Null, EntryKind::Leader | EntryKind::Follower) => Vec::new(),
        (Value::Null, _) if multi => Vec::new(),
        (value, _) => vec![text(value)],
    }
}

/// A description or help with `{{ identifier }}` replaced for display.
#[must_use]
pub fn with_identifier(text: &str, identifier: Option<&str>) -> String {
    let Some(identifier) = identifier else {
        return text.to_owned();
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let inner = rest[start + 2..start + len].trim();
        out.push_str(&rest[..start]);
        if inner == "identifier" || inner == "suffix" {
            out.push_str(identifier);
        } else {
            out.push_str(&rest[start..start + len + 2]);
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

/// An entry's label: its translated description, else the dictionary's, with
/// the identifier of its dynamic family.
#[must_use]
pub fn entry_label(config: &Config, translations: &Translations, entry: &Entry) -> String {
    let node = config.schema().node(entry.node);
    let text = translations
        .get(&node.path)
        .and_then(|t| t.description.as_deref())
        .unwrap_or(&node.description);
    with_identifier(text, entry.identifiers.last().map(String::as_str))
}

/// An entry's label preceded by its family's (`Container web › Tag`), for
/// places that show it out of the form (summary, changes). Leadership columns
/// are named after their table.
#[must_use]
pub fn context_label(config: &Config, translations: &Translations, entry: &Entry) -> String {
    let mut parts = vec![entry_label(config, translations, entry)];
    let mut parent = entry.parent;
    while let Some(index) = parent {
        let Some(family) = config.entries().get(index) else {
            break;
        };
        if family.parent.is_none() {
            // A tab's family: already said by the tab.
            break;
        }
        parts.push(entry_label(config, translations, family));
        parent = family.parent;
    }
    parts.reverse();
    parts.join(" › ")
}

struct Builder<'a> {
    input: &'a Input<'a>,
    entries: &'a [Entry],
    /// Children entry indexes per parent entry (`None`: top level).
    children: HashMap<Option<usize>, Vec<usize>>,
    /// Whether each entry is shown (families: with something shown inside).
    shown: Vec<bool>,
    /// Issues by path, not yet shown.
    issues: HashMap<&'a str, Vec<&'a FormIssue>>,
    summary: Vec<SummaryItem>,
}

/// Build the form.
#[must_use]
pub fn build(input: &Input<'_>) -> FormView {
    let entries = input.config.entries();
    let mut children: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
    for (i, entry) in entries.iter().enumerate() {
        children.entry(entry.parent).or_default().push(i);
    }
    let mut issues: HashMap<&str, Vec<&FormIssue>> = HashMap::new();
    for issue in input.issues {
        issues.entry(issue.path.as_str()).or_default().push(issue);
    }
    let mut builder = Builder {
        input,
        entries,
        shown: vec![false; entries.len()],
        children,
        issues,
        summary: Vec::new(),
    };
    builder.compute_shown();
    let tabs = builder.tabs();
    // Issues of entries not shown (another mode, hidden): in the summary only.
    let mut rest: Vec<&FormIssue> = builder.issues.values().flatten().copied().collect();
    rest.sort_by(|a, b| (&a.path, a.index).cmp(&(&b.path, b.index)));
    for issue in rest.into_iter().filter(|i| i.error) {
        let label = builder.label_of_path(&issue.path);
        builder.summary.push(SummaryItem {
            label,
            message: builder.message(issue),
            anchor: String::new(),
        });
    }
    FormView {
        tabs,
        summary: builder.summary,
    }
}

impl<'a> Builder<'a> {
    fn config(&self) -> &'a Config {
        self.input.config
    }

    fn mode_ok(&self, entry: &Entry) -> bool {
        self.config().mode(entry) <= self.input.mode
    }

    /// Children come after their parent (depth first), so one backward pass
    /// decides every family from its children.
    fn compute_shown(&mut self) {
        for i in (0..self.entries.len()).rev() {
            let entry = &self.entries[i];
            let own = !entry.disabled && !entry.hidden && self.mode_ok(entry);
            self.shown[i] = match entry.kind {
                EntryKind::Family => {
                    own && self
                        .children
                        .get(&Some(i))
                        .is_some_and(|c| c.iter().any(|&child| self.shown[child]))
                }
                EntryKind::Variable | EntryKind::Leader | EntryKind::Follower => own,
            };
        }
    }

    fn label(&self, entry: &Entry) -> String {
        entry_label(self.config(), self.input.translations, entry)
    }

    fn context(&self, entry: &Entry) -> String {
        context_label(self.config(), self.input.translations, entry)
    }

    fn help(&self, entry: &Entry) -> Option<String> {
        let node = self.config().schema().node(entry.node);
        let text = self
            .input
            .translations
            .get(&node.path)
            .and_then(|t| t.help.as_deref())
            .or(node.help.as_deref())?;
        Some(inline_code(&with_identifier(
            text,
            entry.identifiers.last().map(String::as_str),
        )))
    }

    fn label_of_path(&self, path: &str) -> String {
        self.config()
            .entry(path)
            .map_or_else(|| path.to_owned(), |e| self.context(e))
    }

    /// An issue's message as HTML.
    fn message(&self, issue: &FormIssue) -> String {
        inline_code(&match issue.index {
            Some(index) => i18n::fill(
                self.input.t.item_error,
                &[&(index + 1).to_string(), &issue.message],
            ),
            None => issue.message.clone(),
        })
    }

    fn take_issues(&mut self, path: &str) -> Vec<&'a FormIssue> {
        self.issues.remove(path).unwrap_or_default()
    }

    fn tabs(&mut self) -> Vec<TabView> {
        let schema = self.config().schema();
        let roots = self.children.get(&None).cloned().unwrap_or_default();
        // With a namespace, the tabs are the namespace's families.
        let mut top: Vec<usize> = Vec::new();
        for &root in &roots {
            let is_namespace = matches!(
                &schema.node(self.entries[root].node).kind,
                NodeKind::Family(f) if matches!(f.kind, FamilyKind::Namespace)
            );
            if is_namespace {
                if self.shown[root] {
                    top.extend(self.children.get(&Some(root)).cloned().unwrap_or_default());
                }
            } else {
                top.push(root);
            }
        }
        let mut tabs = Vec::new();
        let mut general: Vec<Item> = Vec::new();
        for index in top {
            let entry = &self.entries[index];
            if entry.kind != EntryKind::Family || self.is_leadership(index) {
                if self.shown[index] {
                    self.entry_items(index, 2, &mut general);
                }
                continue;
            }
            if !self.shown[index] {
                continue;
            }
            let name = entry
                .path
                .rsplit('.')
                .next()
                .unwrap_or(&entry.path)
                .to_owned();
            let mut items = Vec::new();
            self.family_items(index, 3, &mut items);
            let error_count = count_errors(&items);
            tabs.push(TabView {
                id: html_id("tab", &name),
                name,
                label: self.label(entry),
                help: self.help(entry),
                items,
                error_count,
            });
        }
        if !general.is_empty() {
            let error_count = count_errors(&general);
            tabs.insert(
                0,
                TabView {
                    name: GENERAL_TAB.to_owned(),
                    id: html_id("tab", GENERAL_TAB),
                    label: self.input.t.general_tab.to_owned(),
                    help: None,
                    items: general,
                    error_count,
                },
            );
        }
        tabs
    }

    fn is_leadership(&self, index: usize) -> bool {
        matches!(
            &self.config().schema().node(self.entries[index].node).kind,
            NodeKind::Family(f) if matches!(f.kind, FamilyKind::Leadership)
        )
    }

    /// The items inside family `index`, in the schema's order, with an "add"
    /// control after each dynamic family's instances.
    fn family_items(&mut self, index: usize, level: u8, items: &mut Vec<Item>) {
        let schema = self.config().schema();
        let node = self.entries[index].node;
        let child_nodes: Vec<NodeId> = schema
            .family(node)
            .map(|f| f.children.clone())
            .unwrap_or_default();
        let children = self.children.get(&Some(index)).cloned().unwrap_or_default();
        for child_node in child_nodes {
            let instances: Vec<usize> = children
                .iter()
                .copied()
                .filter(|&c| self.entries[c].node == child_node)
                .collect();
            for &child in &instances {
                if self.shown[child] {
                    self.entry_items(child, level, items);
                }
            }
            if let Some(add) = self.add_instance(child_node, index) {
                items.push(Item::AddInstance(add));
            }
        }
    }

    fn entry_items(&mut self, index: usize, level: u8, items: &mut Vec<Item>) {
        let entry = &self.entries[index];
        match entry.kind {
            EntryKind::Family if self.is_leadership(index) => {
                let table = self.table(index);
                items.push(Item::Table(table));
            }
            EntryKind::Family => {
                let remove = self.remove_instance(index);
                items.push(Item::Open(SectionView {
                    id: html_id("family", &entry.path),
                    title: self.label(entry),
                    help: self.help(entry),
                    level: level.min(6),
                    remove,
                }));
                self.family_items(index, level.saturating_add(1), items);
                items.push(Item::Close);
            }
            EntryKind::Variable | EntryKind::Leader | EntryKind::Follower => {
                let field = self.field(index);
                items.push(Item::Field(field));
            }
        }
    }

    /// The source variable entry of dynamic family `node` as seen from the
    /// family entry `parent` (its identifiers are a prefix of the parent's).
    fn dynamic_source(&self, node: NodeId, parent: usize) -> Option<usize> {
        let schema = self.config().schema();
        let NodeKind::Family(family) = &schema.node(node).kind else {
            return None;
        };
        let FamilyKind::Dynamic(dynamic) = &family.kind else {
            return None;
        };
        let Dynamic::Calc(calc) = dynamic.as_ref() else {
            return None;
        };
        let CalcKind::Variable(reference) = &calc.kind else {
            return None;
        };
        let source = reference.target.as_ref()?.node;
        let within = &self.entries[parent].identifiers;
        self.entries
            .iter()
            .position(|e| e.node == source && within.starts_with(&e.identifiers))
    }

    /// Whether the administrator can change the source list of a dynamic family.
    fn editable_source(&self, source: usize) -> bool {
        let entry = &self.entries[source];
        self.shown[source] && !entry.frozen && entry.kind == EntryKind::Variable
    }

    fn add_instance(&self, node: NodeId, parent: usize) -> Option<AddInstanceView> {
        let source = self.dynamic_source(node, parent)?;
        if !self.editable_source(source) {
            return None;
        }
        let schema = self.config().schema();
        let family = schema.node(node);
        let description = self
            .input
            .translations
            .get(&family.path)
            .and_then(|t| t.description.as_deref())
            .unwrap_or(&family.description);
        let what = with_identifier(description, Some("")).trim().to_owned();
        let source_path = &self.entries[source].path;
        Some(AddInstanceView {
            id: html_id("new", source_path),
            name: format!("{}{source_path}", posted::NEW_PREFIX),
            action: Action::AddInstance(source_path.clone()).to_value(),
            label: i18n::fill(self.input.t.add_instance_label, &[&what]),
            errors: Vec::new(),
        })
    }

    fn remove_instance(&self, index: usize) -> Option<InstanceAction> {
        let entry = &self.entries[index];
        let identifier = entry.identifier.as_ref()?;
        let parent = entry.parent?;
        let source = self.dynamic_source(entry.node, parent)?;
        if !self.editable_source(source) {
            return None;
        }
        Some(InstanceAction {
            action: Action::RemoveInstance(self.entries[source].path.clone(), identifier.clone())
                .to_value(),
            label: i18n::fill(self.input.t.remove_instance, &[identifier]),
        })
    }

    fn widget(&self, entry: &Entry) -> Widget {
        let Some(variable) = self.config().schema().variable(entry.node) else {
            return Widget::text();
        };
        match variable.ty {
            VarType::Boolean => Widget::Boolean,
            VarType::Secret => Widget::Secret,
            VarType::Choice => {
                let mut blank = !entry.mandatory;
                let mut choices = Vec::new();
                for choice in entry.choices.iter().flatten() {
                    if choice.is_null() {
                        blank = true;
                    } else {
                        let text = choice.display();
                        choices.push((text.clone(), text));
                    }
                }
                Widget::Select { choices, blank }
            }
            VarType::Integer | VarType::Port | VarType::UnixPermissions => Widget::Text {
                kind: "text",
                inputmode: "numeric",
            },
            VarType::Float => Widget::Text {
                kind: "text",
                inputmode: "decimal",
            },
            VarType::Mail => Widget::Text {
                kind: "text",
                inputmode: "email",
            },
            VarType::WebAddress => Widget::Text {
                kind: "text",
                inputmode: "url",
            },
            _ => Widget::text(),
        }
    }

    fn texts(&self, entry: &Entry) -> Vec<String> {
        match self.input.overlay.get(&entry.path) {
            Some(texts) if !self.is_secret(entry) => texts.clone(),
            _ => entry_texts(self.config(), entry),
        }
    }

    fn is_secret(&self, entry: &Entry) -> bool {
        self.config()
            .schema()
            .variable(entry.node)
            .is_some_and(crate::dictionary::Variable::is_secret)
    }

    fn examples(&self, entry: &Entry) -> String {
        let Some(variable) = self.config().schema().variable(entry.node) else {
            return String::new();
        };
        if variable.examples.is_empty() {
            return String::new();
        }
        let list: Vec<String> = variable.examples.iter().map(Value::display).collect();
        i18n::fill(self.input.t.examples, &[&list.join(", ")])
    }

    fn field(&mut self, index: usize) -> FieldView {
        let entry = &self.entries[index];
        let multi = self
            .config()
            .schema()
            .variable(entry.node)
            .is_some_and(|v| v.multi);
        let id = html_id("f", &entry.path);
        let texts = self.texts(entry);
        let slots: Vec<Slot> = if multi {
            texts
                .into_iter()
                .enumerate()
                .map(|(i, value)| {
                    let slot_id = format!("{id}-{i}");
                    Slot {
                        name: posted::item_name(&entry.path, i),
                        labelledby: format!("{id}-label {slot_id}-n"),
                        id: slot_id,
                        value,
                        index: i,
                    }
                })
                .collect()
        } else {
            vec![Slot {
                name: posted::value_name(&entry.path),
                id: id.clone(),
                value: texts.into_iter().next().unwrap_or_default(),
                index: 0,
                labelledby: String::new(),
            }]
        };
        let mut field = FieldView {
            path: entry.path.clone(),
            id: id.clone(),
            label: self.label(entry),
            help: self.help(entry),
            required: entry.mandatory,
            readonly: entry.frozen,
            multi,
            widget: self.widget(entry),
            slots,
            secret_set: self.is_secret(entry) && !entry.value.is_null(),
            errors: Vec::new(),
            warnings: Vec::new(),
            examples: self.examples(entry),
        };
        let context = self.context(entry);
        for issue in self.take_issues(&entry.path) {
            let message = self.message(issue);
            if issue.error {
                let anchor = match issue.index {
                    Some(i) if multi => format!("#{id}-{i}"),
                    _ => format!("#{id}"),
                };
                self.summary.push(SummaryItem {
                    label: context.clone(),
                    message: message.clone(),
                    anchor,
                });
                field.errors.push(message);
            } else {
                field.warnings.push(message);
            }
        }
        field
    }

    /// A leadership: the leader and its shown followers as columns, a row per entry.
    fn table(&mut self, index: usize) -> TableView {
        let family = &self.entries[index];
        let children = self.children.get(&Some(index)).cloned().unwrap_or_default();
        let columns_idx: Vec<usize> = children
            .iter()
            .copied()
            .filter(|&c| self.shown[c])
            .collect();
        let leader = children
            .iter()
            .copied()
            .find(|&c| self.entries[c].kind == EntryKind::Leader);
        let leader_path = leader.map_or_else(String::new, |l| self.entries[l].path.clone());
        let leader_texts = leader.map_or_else(Vec::new, |l| self.texts(&self.entries[l]));
        let table_id = html_id("t", &family.path);
        let columns: Vec<ColumnView> = columns_idx
            .iter()
            .map(|&c| {
                let entry = &self.entries[c];
                ColumnView {
                    path: entry.path.clone(),
                    id: html_id("col", &entry.path),
                    label: self.label(entry),
                    help: self.help(entry),
                    required: entry.mandatory,
                }
            })
            .collect();
        let title = self.label(family);
        let table_context = self.context(family);
        let mut table_errors = Vec::new();
        let mut rows: Vec<RowView> = (0..leader_texts.len())
            .map(|i| RowView {
                index: i,
                id: format!("{table_id}-row-{i}"),
                number: i + 1,
                remove_label: i18n::fill(self.input.t.remove_row, &[&(i + 1).to_string()]),
                cells: Vec::new(),
            })
            .collect();
        for (column, &c) in columns.iter().zip(&columns_idx) {
            let entry = &self.entries[c];
            let texts = self.texts(entry);
            let widget = self.widget(entry);
            let issues = self.take_issues(&entry.path);
            for row in &mut rows {
                let disabled = entry.kind == EntryKind::Follower
                    && entry.rows_disabled.get(row.index).copied().unwrap_or(false);
                if disabled {
                    row.cells.push(None);
                    continue;
                }
                let cell_id = format!("{}-{}", html_id("f", &entry.path), row.index);
                let mut cell = FieldView {
                    path: entry.path.clone(),
                    id: cell_id.clone(),
                    label: column.label.clone(),
                    help: None,
                    required: entry.mandatory,
                    readonly: entry.frozen,
                    multi: false,
                    widget: widget.clone(),
                    slots: vec![Slot {
                        name: posted::item_name(&entry.path, row.index),
                        id: cell_id.clone(),
                        value: texts.get(row.index).cloned().unwrap_or_default(),
                        index: row.index,
                        labelledby: format!("{} {}", column.id, row.id),
                    }],
                    secret_set: false,
                    errors: Vec::new(),
                    warnings: Vec::new(),
                    examples: String::new(),
                };
                for issue in issues.iter().filter(|i| i.index == Some(row.index)) {
                    let message = inline_code(&issue.message);
                    if issue.error {
                        self.summary.push(SummaryItem {
                            label: i18n::fill(
                                self.input.t.cell_label,
                                &[&table_context, &column.label, &row.number.to_string()],
                            ),
                            message: message.clone(),
                            anchor: format!("#{cell_id}"),
                        });
                        cell.errors.push(message);
                    } else {
                        cell.warnings.push(message);
                    }
                }
                row.cells.push(Some(cell));
            }
            for issue in issues
                .iter()
                .filter(|i| i.index.is_none_or(|index| index >= rows.len()))
            {
                let message = format!("{}: {}", inline_code(&column.label), self.message(issue));
                if issue.error {
                    self.summary.push(SummaryItem {
                        label: table_context.clone(),
                        message: message.clone(),
                        anchor: format!("#{table_id}-field"),
                    });
                }
                table_errors.push(message);
            }
        }
        let editable = leader.is_some_and(|l| self.shown[l] && !self.entries[l].frozen);
        TableView {
            leader: leader_path,
            id: table_id,
            title,
            help: self.help(family),
            columns,
            rows,
            editable,
            errors: table_errors,
        }
    }
}

fn count_errors(items: &[Item]) -> usize {
    items
        .iter()
        .map(|item| match item {
            Item::Field(f) => f.errors.len(),
            Item::Table(t) => t.error_count(),
            Item::AddInstance(a) => a.errors.len(),
            Item::Open(_) | Item::Close => 0,
        })
        .sum()
}

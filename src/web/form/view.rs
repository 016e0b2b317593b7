//! The form as the template sees it: tabs of items (section openings and
//! closings, fields, leadership tables, "add an instance" controls), every
//! text already translated, every value already as text. Built by
//! [`super::build`] from the resolved configuration; knows nothing of it.

/// How one value is entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Widget {
    /// A text input; `kind` is the HTML input type (`text`, `number`, `email`, `url`).
    Text {
        kind: &'static str,
        inputmode: &'static str,
    },
    /// A select among these `(value, label)` choices; `blank` adds an empty choice first.
    Select {
        choices: Vec<(String, String)>,
        blank: bool,
    },
    /// Yes / no.
    Boolean,
    /// A password field, never filled back.
    Secret,
}

impl Widget {
    #[must_use]
    pub const fn text() -> Self {
        Self::Text {
            kind: "text",
            inputmode: "",
        }
    }

    #[must_use]
    pub const fn is_select(&self) -> bool {
        matches!(self, Self::Select { .. })
    }

    #[must_use]
    pub const fn is_boolean(&self) -> bool {
        matches!(self, Self::Boolean)
    }

    #[must_use]
    pub const fn is_secret(&self) -> bool {
        matches!(self, Self::Secret)
    }

    /// The HTML input type of a text widget (`text` for the others).
    #[must_use]
    pub const fn input_type(&self) -> &'static str {
        match self {
            Self::Text { kind, .. } => kind,
            Self::Secret => "password",
            Self::Select { .. } | Self::Boolean => "text",
        }
    }

    #[must_use]
    pub const fn inputmode(&self) -> &'static str {
        match self {
            Self::Text { inputmode, .. } => inputmode,
            Self::Select { .. } | Self::Boolean | Self::Secret => "",
        }
    }

    /// The choices of a select, and whether a blank one comes first.
    #[must_use]
    pub fn choices(&self) -> (&[(String, String)], bool) {
        match self {
            Self::Select { choices, blank } => (choices, *blank),
            Self::Text { .. } | Self::Boolean | Self::Secret => (&[], false),
        }
    }
}

/// One value of a field, as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// The form name (`path` for a single value, `path[i]` in a list).
    pub name: String,
    /// The HTML id.
    pub id: String,
    /// The value as text (`true`/`false` for booleans; empty for secrets, always).
    pub value: String,
    /// The index in a list.
    pub index: usize,
    /// Ids of the elements naming it (`aria-labelledby`) when no `<label>` does:
    /// the list's legend and the item number, or the column and row headers.
    pub labelledby: String,
}

/// A variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldView {
    /// The variable's path (also the base of its form names).
    pub path: String,
    pub id: String,
    pub label: String,
    /// As HTML (escaped, with code spans: see [`inline_code`]).
    pub help: Option<String>,
    pub required: bool,
    /// Frozen: shown, not editable, never posted.
    pub readonly: bool,
    pub multi: bool,
    pub widget: Widget,
    /// One slot for a single value; one per item for a multi (maybe none).
    pub slots: Vec<Slot>,
    /// For a secret: whether a value is set (the value itself is never sent).
    pub secret_set: bool,
    /// As HTML, like `help`.
    pub errors: Vec<String>,
    /// As HTML, like `help`.
    pub warnings: Vec<String>,
    /// Examples from the dictionary, as a hint.
    pub examples: String,
}

impl FieldView {
    /// The id of the element holding the field's messages (for `aria-describedby`).
    #[must_use]
    pub fn describedby(&self) -> String {
        let mut ids = Vec::new();
        if self.help.is_some() || !self.examples.is_empty() {
            ids.push(format!("{}-help", self.id));
        }
        if !self.errors.is_empty() || !self.warnings.is_empty() {
            ids.push(format!("{}-error", self.id));
        }
        ids.join(" ")
    }

    /// The first slot's value (single-valued fields).
    #[must_use]
    pub fn value(&self) -> &str {
        self.slots.first().map_or("", |s| s.value.as_str())
    }

    /// The first slot (single-valued fields); an empty one when there is none.
    #[must_use]
    pub fn slot(&self) -> Slot {
        self.slots.first().cloned().unwrap_or_else(|| Slot {
            name: self.path.clone(),
            id: self.id.clone(),
            value: String::new(),
            index: 0,
            labelledby: String::new(),
        })
    }

    #[must_use]
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// A column of a leadership table (the leader first, then the followers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnView {
    pub path: String,
    pub id: String,
    pub label: String,
    pub help: Option<String>,
    pub required: bool,
}

/// One entry of a leadership: a cell per column (`None`: that follower is
/// hidden or disabled at this index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowView {
    pub index: usize,
    /// The row header's id (for `aria-labelledby`).
    pub id: String,
    pub number: usize,
    /// "Remove row N".
    pub remove_label: String,
    pub cells: Vec<Option<FieldView>>,
}

/// A leadership: a table with one row per entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableView {
    /// The leader's path (rows are added and removed through it).
    pub leader: String,
    pub id: String,
    pub title: String,
    pub help: Option<String>,
    pub columns: Vec<ColumnView>,
    pub rows: Vec<RowView>,
    /// Rows can be added and removed (the leader is not frozen).
    pub editable: bool,
    /// Errors about the whole table (length, uniqueness of the leader).
    pub errors: Vec<String>,
}

impl TableView {
    #[must_use]
    pub fn error_count(&self) -> usize {
        self.errors.len()
            + self
                .rows
                .iter()
                .flat_map(|r| r.cells.iter().flatten())
                .map(|c| c.errors.len())
                .sum::<usize>()
    }
}

/// A family opening: its title, and for a dynamic instance how to remove it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionView {
    pub id: String,
    pub title: String,
    pub help: Option<String>,
    /// Heading level (2 for a tab's direct families, deeper below, at most 6).
    pub level: u8,
    /// For an instance of a dynamic family: the action removing it.
    pub remove: Option<InstanceAction>,
}

/// Adding or removing an instance of a dynamic family (an identifier of its
/// source variable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceAction {
    /// The posted `action` value.
    pub action: String,
    /// The button's text.
    pub label: String,
}

/// The "add an instance" control after a dynamic family's instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddInstanceView {
    pub id: String,
    /// The form name of the new identifier's input.
    pub name: String,
    pub action: String,
    /// "Add a container" (the family's description without its identifier).
    pub label: String,
    pub errors: Vec<String>,
}

/// One thing in a tab, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Open(SectionView),
    Close,
    Field(FieldView),
    Table(TableView),
    AddInstance(AddInstanceView),
}

impl Item {
    #[must_use]
    pub const fn section(&self) -> Option<&SectionView> {
        match self {
            Self::Open(s) => Some(s),
            Self::Close | Self::Field(_) | Self::Table(_) | Self::AddInstance(_) => None,
        }
    }

    #[must_use]
    pub const fn is_close(&self) -> bool {
        matches!(self, Self::Close)
    }

    #[must_use]
    pub const fn field(&self) -> Option<&FieldView> {
        match self {
            Self::Field(f) => Some(f),
            Self::Open(_) | Self::Close | Self::Table(_) | Self::AddInstance(_) => None,
        }
    }

    #[must_use]
    pub const fn table(&self) -> Option<&TableView> {
        match self {
            Self::Table(t) => Some(t),
            Self::Open(_) | Self::Close | Self::Field(_) | Self::AddInstance(_) => None,
        }
    }

    #[must_use]
    pub const fn add_instance(&self) -> Option<&AddInstanceView> {
        match self {
            Self::AddInstance(a) => Some(a),
            Self::Open(_) | Self::Close | Self::Field(_) | Self::Table(_) => None,
        }
    }
}

/// A top-level family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TabView {
    /// The family's name (the `tab` parameter).
    pub name: String,
    /// The HTML id of its panel.
    pub id: String,
    pub label: String,
    pub help: Option<String>,
    pub items: Vec<Item>,
    pub error_count: usize,
}

/// An error of the summary at the top: what, and a link to the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryItem {
    pub label: String,
    /// As HTML (see [`inline_code`]).
    pub message: String,
    /// `#id` of the field, or empty when it is not shown.
    pub anchor: String,
}

/// The whole form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormView {
    pub tabs: Vec<TabView>,
    pub summary: Vec<SummaryItem>,
}

/// Text as HTML, `backquoted` parts as `<code>`: what dictionaries and the
/// core's messages write. Everything is escaped first; the result is safe to
/// insert as is.
#[must_use]
pub fn inline_code(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_code = false;
    let open_quotes = text.matches('`').count();
    let mut seen = 0;
    for c in text.chars() {
        match c {
            // An unpaired last backquote stays a character.
            '`' if seen + 1 < open_quotes || in_code => {
                seen += 1;
                out.push_str(if in_code { "</code>" } else { "<code>" });
                in_code = !in_code;
            }
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    if in_code {
        out.push_str("</code>");
    }
    out
}

/// An HTML id from a path: letters and digits kept, everything else `-`.
#[must_use]
pub fn html_id(prefix: &str, path: &str) -> String {
    let mut id = String::with_capacity(prefix.len() + path.len() + 1);
    id.push_str(prefix);
    id.push('-');
    for c in path.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            id.push(c);
        } else {
            id.push('-');
        }
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backquotes_become_code_and_the_rest_is_escaped() {
        assert_eq!(
            inline_code("use `a<b>` & \"c\""),
            "use <code>a&lt;b&gt;</code> &amp; &quot;c&quot;"
        );
        assert_eq!(inline_code("one ` alone"), "one ` alone");
        assert_eq!(
            inline_code("`x` and `y`"),
            "<code>x</code> and <code>y</code>"
        );
        assert_eq!(inline_code("<script>"), "&lt;script&gt;");
    }
}

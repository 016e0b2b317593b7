//! The loaded dictionaries: an arena of families and variables ([`Node`]) in
//! definition order, every attribute resolved (types inferred, multi and
//! modes propagated, paths of calculations bound to node ids). Built only by
//! [`super::load`]; read by `values::resolve`, `doc` and the web form.
//! Cheap to clone (shared behind an `Arc`).

use std::sync::Arc;

use foldhash::HashMap;

use crate::diagnostic::{Diagnostic, Span};
use crate::dictionary::types::{Params, VarType};
use crate::dictionary::value::Value;
use crate::expr::Expr;

/// Index of a node in the schema arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) u32);

impl NodeId {
    #[must_use]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Rougail modes: which administrators see a variable (EOLE basique/normal/expert).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    Basic,
    Standard,
    Advanced,
}

impl Mode {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Basic => "basic",
            Self::Standard => "standard",
            Self::Advanced => "advanced",
        }
    }

    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "basic" => Some(Self::Basic),
            "standard" => Some(Self::Standard),
            "advanced" => Some(Self::Advanced),
            _ => None,
        }
    }
}

/// A dictionary: every family and variable, in definition order.
#[derive(Debug, Clone)]
pub struct Schema(pub(crate) Arc<SchemaData>);

#[derive(Debug)]
pub(crate) struct SchemaData {
    pub(crate) nodes: Vec<Node>,
    /// Top-level nodes (namespace families when there are namespaces).
    pub(crate) roots: Vec<NodeId>,
    /// Path (with `{{ identifier }}` for dynamic families) → node.
    pub(crate) by_path: HashMap<String, NodeId>,
    /// Compiled tera expressions, referenced by [`ExprId`].
    pub(crate) exprs: Vec<Expr>,
    /// Variables in an order where static dependencies come first.
    pub(crate) order: Vec<NodeId>,
    pub(crate) warnings: Vec<Diagnostic>,
    /// Whether paths start with a namespace.
    pub(crate) has_namespace: bool,
    pub(crate) engine: crate::expr::Engine,
    /// The dictionary texts, for the source line of diagnostics.
    pub(crate) sources: Vec<(Arc<std::path::PathBuf>, Arc<str>)>,
}

impl Schema {
    /// Every node, in definition order (depth first).
    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, &Node)> {
        self.0
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (NodeId(u32::try_from(i).unwrap_or(u32::MAX)), n))
    }

    #[must_use]
    pub fn node(&self, id: NodeId) -> &Node {
        &self.0.nodes[id.index()]
    }

    #[must_use]
    pub fn roots(&self) -> &[NodeId] {
        &self.0.roots
    }

    /// The node of a path written with `{{ identifier }}` for dynamic families.
    #[must_use]
    pub fn lookup(&self, path: &str) -> Option<NodeId> {
        self.0.by_path.get(path).copied()
    }

    /// Warnings found while loading (deprecated forms, unused attributes).
    #[must_use]
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.0.warnings
    }

    /// The text of a dictionary file (for the caret display of a diagnostic).
    #[must_use]
    pub fn source_text(&self, path: &std::path::Path) -> Option<&str> {
        self.0
            .sources
            .iter()
            .find(|(p, _)| p.as_path() == path)
            .map(|(_, t)| &**t)
    }

    #[must_use]
    pub fn has_namespace(&self) -> bool {
        self.0.has_namespace
    }

    pub(crate) fn expr(&self, id: ExprId) -> &Expr {
        &self.0.exprs[id.0 as usize]
    }

    pub(crate) fn data(&self) -> &SchemaData {
        &self.0
    }

    /// The variable of a node, if it is one.
    #[must_use]
    pub fn variable(&self, id: NodeId) -> Option<&Variable> {
        match &self.node(id).kind {
            NodeKind::Variable(v) => Some(v),
            NodeKind::Family(_) => None,
        }
    }

    /// The family of a node, if it is one.
    #[must_use]
    pub fn family(&self, id: NodeId) -> Option<&Family> {
        match &self.node(id).kind {
            NodeKind::Family(f) => Some(f),
            NodeKind::Variable(_) => None,
        }
    }

    /// Dynamic families enclosing a node, outermost first (the node itself included
    /// when it is one).
    #[must_use]
    pub fn dynamic_ancestors(&self, id: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut cur = Some(id);
        while let Some(n) = cur {
            if matches!(
                &self.node(n).kind,
                NodeKind::Family(Family {
                    kind: FamilyKind::Dynamic(_),
                    ..
                })
            ) {
                out.push(n);
            }
            cur = self.node(n).parent;
        }
        out.reverse();
        out
    }
}

/// Index of a compiled expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExprId(pub(crate) u32);

/// A family or a variable.
#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    /// Full path, with `{{ identifier }}` in the names of dynamic families.
    pub path: String,
    pub parent: Option<NodeId>,
    pub description: String,
    pub help: Option<String>,
    /// Effective mode (explicit or propagated).
    pub mode: Mode,
    pub tags: Vec<String>,
    pub hidden: Prop,
    pub disabled: Prop,
    /// Where the node was first declared.
    pub span: Span,
    pub kind: NodeKind,
    /// The mode was written in the dictionary (not propagated).
    pub explicit_mode: bool,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    Family(Family),
    Variable(Box<Variable>),
}

#[derive(Debug, Clone)]
pub struct Family {
    pub kind: FamilyKind,
    pub children: Vec<NodeId>,
}

#[derive(Debug, Clone)]
pub enum FamilyKind {
    Plain,
    /// A namespace (top-level family named after `--namespace`/`--extra`).
    Namespace,
    /// A leadership (sequence): first child is the leader.
    Leadership,
    Dynamic(Box<Dynamic>),
}

/// Where a dynamic family's identifiers come from.
#[derive(Debug, Clone)]
pub enum Dynamic {
    /// A static list (items may be calculations).
    List(Vec<Item>),
    Calc(Calc),
}

/// A list item that is either a value or a calculation.
#[derive(Debug, Clone)]
pub enum Item {
    Value(Value),
    // Boxed: a calculation is large and most items are plain values.
    Calc(Box<Calc>),
}

/// The role of a variable inside a leadership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Plain,
    Leader,
    Follower(NodeId),
}

#[derive(Debug, Clone)]
pub struct Variable {
    pub ty: VarType,
    /// The type as written (`number`, `cidr`… keep their own name for docs).
    pub type_name: String,
    pub params: Params,
    pub multi: bool,
    /// A follower holding a list per leader index.
    pub submulti: bool,
    pub mandatory: Prop,
    /// `empty: false` allows null items inside a multi.
    pub empty: Prop,
    pub unique: bool,
    pub default: Default,
    /// For a multi: the value proposed when an item is appended.
    pub default_multi: Option<Value>,
    pub frozen: Prop,
    pub auto_save: bool,
    pub validators: Vec<Calc>,
    pub choices: Option<Choices>,
    pub regexp: Option<Regexp>,
    pub examples: Vec<Value>,
    pub test: Vec<Value>,
    /// `warnings: true`: type checks only warn.
    pub warnings: bool,
    pub role: Role,
    /// Where the default was written (for messages).
    pub default_span: Option<Span>,
}

impl Variable {
    #[must_use]
    pub fn is_secret(&self) -> bool {
        self.ty == VarType::Secret
    }
}

/// A compiled `regexp` (Python `re.search` semantics).
#[derive(Debug, Clone)]
pub struct Regexp {
    pub source: String,
    pub regex: Arc<fancy_regex::Regex>,
}

#[derive(Debug, Clone)]
pub enum Choices {
    List(Vec<Item>),
    Calc(Box<Calc>),
}

#[derive(Debug, Clone)]
pub enum Default {
    None,
    Value(Value),
    // Boxed: every variable carries a `Default`, few are calculated.
    Calc(Box<Calc>),
    /// A multi whose list holds calculations.
    Items(Vec<Item>),
}

/// A property (`hidden`, `disabled`, `frozen`, `mandatory`, `empty`): fixed or calculated.
#[derive(Debug, Clone)]
pub enum Prop {
    Fixed(bool),
    Calc(Box<Calc>),
}

impl Prop {
    #[must_use]
    pub fn is_fixed(&self, value: bool) -> bool {
        matches!(self, Self::Fixed(v) if *v == value)
    }
}

/// How an inaccessible source variable is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyError {
    /// Error (default).
    Raise,
    /// Treat as absent (`propertyerror: false`).
    Ignore,
    /// Property present iff the source is inaccessible (`propertyerror: transitive`).
    Transitive,
}

/// What a calculation returns for properties and validators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnType {
    /// Non-empty text means "yes" (the text is the reason).
    String,
    Boolean,
}

/// A calculation, wherever it appears.
#[derive(Debug, Clone)]
pub struct Calc {
    pub span: Span,
    pub kind: CalcKind,
    /// `description` (for docs, messages of properties and validators).
    pub description: Option<String>,
    /// Validators: a warning instead of an error.
    pub warnings: bool,
    /// Property conditions: `when` / `when_not`.
    pub when: Option<Condition>,
}

/// `when: X` (property iff source == X) or `when_not: X` (iff source != X).
#[derive(Debug, Clone)]
pub struct Condition {
    pub value: Value,
    pub inverse: bool,
}

#[derive(Debug, Clone)]
pub enum CalcKind {
    Variable(VarRef),
    Jinja(Jinja),
    /// The identifier of the enclosing dynamic family (`identifier: N` picks the N-th).
    Identifier(Option<usize>),
    /// The index of a follower.
    Index,
    Information {
        name: String,
        variable: Option<Target>,
    },
    /// The description of the current namespace.
    Namespace(String),
}

/// A reference to another variable from a calculation.
#[derive(Debug, Clone)]
pub struct VarRef {
    /// `None`: an optional variable that does not exist.
    pub target: Option<Target>,
    pub propertyerror: PropertyError,
    /// Used when the source is missing/inaccessible (`optional` + `default`).
    pub default: Option<Value>,
    pub optional: bool,
    /// The path as written (for messages).
    pub written: String,
    /// Pass the whole list of a multi (validators).
    pub whole: bool,
    /// Picks the instance of the (innermost aggregated) dynamic family by a
    /// calculated identifier (`identifier: {variable: …}`).
    pub identifier: Option<Box<Calc>>,
}

/// A bound path: the node and, for each dynamic family above it, which instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub node: NodeId,
    /// One per dynamic ancestor of `node`, outermost first.
    pub selectors: Vec<Selector>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// The instance whose normalised identifier is this.
    Fixed(String),
    /// The caller's own instance (the caller is inside the same dynamic family).
    Current,
    /// Every instance: the result is a list, one value per identifier.
    All,
}

#[derive(Debug, Clone)]
pub struct Jinja {
    pub expr: ExprId,
    pub return_type: ReturnType,
    /// Type the output lines are converted to (variable type for `default`,
    /// `return_type` for `choices`/`dynamic`).
    pub convert: VarType,
    /// Variables the expression reads: context key path (`["_", "var"]`) → reference.
    pub vars: Vec<(Vec<String>, VarRef)>,
    /// Families the expression names (exposed as empty maps).
    pub families: Vec<Vec<String>>,
    /// `params:` of the calculation.
    pub params: Vec<(String, Param)>,
}

#[derive(Debug, Clone)]
pub enum Param {
    Value(Value),
    Variable(VarRef),
    Identifier(Option<usize>),
    Index,
    Information {
        name: String,
        variable: Option<Target>,
    },
    Namespace(String),
}

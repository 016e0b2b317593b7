//! The resolver: schema + raw values → every value and property of every
//! family and variable instance (dynamic families expanded, leaderships per
//! index), calculations evaluated lazily with memoisation and cycle detection.
//! Never fails: every problem becomes an [`Issue`] of the [`Config`]. Pure.

use std::rc::Rc;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use crate::diagnostic::Span;
use crate::dictionary::normalize_identifier;
use crate::dictionary::schema::{
    Calc, CalcKind, Choices, Default, Dynamic, FamilyKind, Item, Jinja, NodeId, NodeKind, Param,
    Prop, PropertyError, ReturnType, Role, Schema, Selector, Target, VarRef,
};
use crate::dictionary::types::{self, Check, VarType};
use crate::dictionary::value::Value;
use crate::expr::{self, ContextBuilder};
use crate::values::SECRET_MASK;
use crate::values::config::{Config, Entry, EntryKind, Issue, IssueKind, PathIndex};
use crate::values::raw::{RawValues, Slot};

const NO_INDEX: u32 = u32::MAX;
/// Deepest chain of calculations followed before giving up (bounded stack).
const MAX_DEPTH: usize = 400;

/// Why a value cannot be read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Denied {
    /// The variable or one of its families is disabled (the reason names it).
    Disabled(String),
    /// A dynamic instance or optional variable that does not exist.
    Missing(String),
    /// A calculation failed.
    Error(String),
}

impl Denied {
    fn message(&self) -> String {
        match self {
            Self::Disabled(m) | Self::Missing(m) | Self::Error(m) => m.clone(),
        }
    }
}

#[derive(Debug, Clone)]
enum Memo<T> {
    InProgress,
    Done(T),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Which {
    Hidden,
    Disabled,
    Frozen,
    Mandatory,
    Empty,
}

type Key = (NodeId, u32, u32);
type PropKey = (NodeId, u32, u32, Which);
type IdentMemo = Memo<Result<Rc<Vec<String>>, Denied>>;

pub(crate) struct Resolver<'s> {
    pub(crate) schema: &'s Schema,
    raw: std::collections::HashMap<String, Slot>,
    raw_values: &'s RawValues,
    ctxs: Vec<Rc<Vec<String>>>,
    ctx_ids: HashMap<Rc<Vec<String>>, u32>,
    values: HashMap<Key, Memo<Result<Value, Denied>>>,
    props: HashMap<PropKey, Memo<Result<bool, String>>>,
    idents: HashMap<(NodeId, u32), IdentMemo>,
    user_set: HashMap<Key, bool>,
    dyn_anc: Vec<Rc<Vec<NodeId>>>,
    pub(crate) issues: Vec<Issue>,
    reported: HashSet<(String, Option<usize>, String)>,
    depth: usize,
    /// Variables being read by their own property calculations ([`Self::read_self`]).
    self_reads: HashSet<Key>,
    used_raw: HashSet<String>,
}

fn idx_key(idx: Option<usize>) -> u32 {
    idx.and_then(|i| u32::try_from(i).ok()).unwrap_or(NO_INDEX)
}

/// Convert a value from the values file as Rougail's user data does
/// (`"3"` for an integer is 3, ports become strings, `""` is null).
pub(crate) fn convert_user(ty: VarType, v: Value) -> Value {
    match (&ty, v) {
        (_, Value::Str(s)) if s.is_empty() => Value::Null,
        (VarType::Port, Value::Int(i)) => Value::Str(i.to_string()),
        (VarType::Integer | VarType::UnixPermissions, Value::Str(s)) => {
            match s.trim().parse::<i64>() {
                Ok(i) => Value::Int(i),
                Err(_) => Value::Str(s),
            }
        }
        (VarType::Integer | VarType::UnixPermissions, Value::Float(f)) if f.is_finite() =>
        {
            #[allow(clippy::cast_possible_truncation)]
            Value::Int(f.trunc() as i64)
        }
        (VarType::Float, Value::Str(s)) => match s.trim().parse::<f64>() {
            Ok(f) => Value::Float(f),
            Err(_) => Value::Str(s),
        },
        (VarType::Float, Value::Int(i)) =>
        {
            #[allow(clippy::cast_precision_loss)]
            Value::Float(i as f64)
        }
        (VarType::Boolean, Value::Str(s)) => match s.to_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::Str(s),
        },
        (VarType::String | VarType::Choice, Value::Str(s)) => Value::Str(s),
        (_, v) => v,
    }
}

impl<'s> Resolver<'s> {
    pub(crate) fn new(schema: &'s Schema, raw: &'s RawValues) -> Self {
        let mut dyn_anc = Vec::with_capacity(schema.data().nodes.len());
        let none: Rc<Vec<NodeId>> = Rc::new(Vec::new());
        for (id, _) in schema.nodes() {
            let ancestors = schema.dynamic_ancestors(id);
            // Most nodes have no dynamic family above: one shared empty list.
            dyn_anc.push(if ancestors.is_empty() {
                none.clone()
            } else {
                Rc::new(ancestors)
            });
        }
        let root: Rc<Vec<String>> = Rc::new(Vec::new());
        let mut ctx_ids = HashMap::new();
        ctx_ids.insert(root.clone(), 0);
        Self {
            schema,
            raw: raw.flatten(),
            raw_values: raw,
            ctxs: vec![root],
            ctx_ids,
            // Sized for one instance of every node (most dictionaries have no
            // dynamic family): no rehash while resolving.
            values: HashMap::with_capacity(schema.data().nodes.len()),
            props: HashMap::with_capacity(2 * schema.data().nodes.len()),
            idents: HashMap::new(),
            user_set: HashMap::new(),
            dyn_anc,
            issues: Vec::new(),
            reported: HashSet::new(),
            depth: 0,
            self_reads: HashSet::new(),
            used_raw: HashSet::new(),
        }
    }

    fn ctx_id(&mut self, ctx: Vec<String>) -> u32 {
        if let Some(id) = self.ctx_ids.get(&ctx) {
            return *id;
        }
        let id = u32::try_from(self.ctxs.len()).unwrap_or(u32::MAX);
        let rc = Rc::new(ctx);
        self.ctxs.push(rc.clone());
        self.ctx_ids.insert(rc, id);
        id
    }

    fn ctx(&self, id: u32) -> Rc<Vec<String>> {
        self.ctxs[id as usize].clone()
    }

    /// The context of an ancestor: its own dynamic depth worth of identifiers.
    fn truncate(&mut self, node: NodeId, ctx: u32) -> u32 {
        let depth = self.dyn_anc[node.index()].len();
        let c = &self.ctxs[ctx as usize];
        if c.len() <= depth {
            return ctx;
        }
        let v = c[..depth].to_vec();
        self.ctx_id(v)
    }

    /// The concrete path of a node in a context (dynamic names substituted).
    pub(crate) fn concrete(&self, node: NodeId, ctx: u32) -> String {
        let anc = &self.dyn_anc[node.index()];
        if anc.is_empty() {
            // No dynamic family above: the schema path is the concrete one.
            return self.schema.node(node).path.clone();
        }
        let c = &self.ctxs[ctx as usize];
        let mut segments = Vec::new();
        let mut cur = Some(node);
        let mut k = anc.len();
        while let Some(n) = cur {
            let nd = self.schema.node(n);
            let is_dyn = matches!(
                &nd.kind,
                NodeKind::Family(f) if matches!(f.kind, FamilyKind::Dynamic(_))
            );
            if is_dyn {
                k = k.saturating_sub(1);
                match c.get(k) {
                    Some(ident) => segments.push(
                        nd.name
                            .replace("{{ identifier }}", &normalize_identifier(ident)),
                    ),
                    None => segments.push(nd.name.clone()),
                }
            } else {
                segments.push(nd.name.clone());
            }
            cur = nd.parent;
        }
        segments.reverse();
        segments.join(".")
    }

    fn issue(&mut self, kind: IssueKind, path: String, index: Option<usize>, message: String) {
        self.issue_at(kind, path, index, message, None);
    }

    fn issue_at(
        &mut self,
        kind: IssueKind,
        path: String,
        index: Option<usize>,
        message: String,
        span: Option<Span>,
    ) {
        if self.reported.insert((path.clone(), index, message.clone())) {
            self.issues.push(Issue {
                kind,
                path,
                index,
                message,
                span,
            });
        }
    }

    /// Where a node's value is defined (its default, else its declaration).
    fn value_span(&self, node: NodeId) -> Span {
        let n = self.schema.node(node);
        match &n.kind {
            NodeKind::Variable(v) => match &v.default {
                Default::Calc(c) => c.span.clone(),
                _ => v.default_span.clone().unwrap_or_else(|| n.span.clone()),
            },
            NodeKind::Family(f) => match &f.kind {
                FamilyKind::Dynamic(d) => match &**d {
                    Dynamic::Calc(c) => c.span.clone(),
                    Dynamic::List(_) => n.span.clone(),
                },
                _ => n.span.clone(),
            },
        }
    }

    // ------------------------------------------------------------- properties

    fn prop_of(&self, node: NodeId, which: Which) -> Option<&'s Prop> {
        let schema: &'s Schema = self.schema;
        let n = schema.node(node);
        match which {
            Which::Hidden => Some(&n.hidden),
            Which::Disabled => Some(&n.disabled),
            Which::Frozen => schema.variable(node).map(|v| &v.frozen),
            Which::Mandatory => schema.variable(node).map(|v| &v.mandatory),
            Which::Empty => schema.variable(node).map(|v| &v.empty),
        }
    }

    fn prop(
        &mut self,
        node: NodeId,
        ctx: u32,
        idx: Option<usize>,
        which: Which,
    ) -> Result<bool, String> {
        let Some(prop) = self.prop_of(node, which) else {
            return Ok(false);
        };
        let calc = match prop {
            Prop::Fixed(b) => return Ok(*b),
            Prop::Calc(c) => c,
        };
        // a follower's calculated properties exist per index only
        if idx.is_none()
            && matches!(
                self.schema.variable(node).map(|v| v.role),
                Some(Role::Follower(_))
            )
        {
            return Ok(false);
        }
        let key = (node, ctx, idx_key(idx), which);
        match self.props.get(&key) {
            Some(Memo::Done(r)) => return r.clone(),
            Some(Memo::InProgress) => {
                return Err(format!(
                    "cycle while computing a property of `{}`",
                    self.concrete(node, ctx)
                ));
            }
            None => {}
        }
        self.props.insert(key, Memo::InProgress);
        let r = self.eval_prop(node, ctx, idx, calc);
        if let Err(e) = &r {
            let path = self.concrete(node, ctx);
            let what = match which {
                Which::Hidden => "hidden",
                Which::Disabled => "disabled",
                Which::Frozen => "frozen",
                Which::Mandatory => "mandatory",
                Which::Empty => "empty",
            };
            let span = Some(calc.span.clone());
            self.issue_at(
                IssueKind::Calculation,
                path,
                idx,
                format!("cannot calculate `{what}`: {e}"),
                span,
            );
        }
        self.props.insert(key, Memo::Done(r.clone()));
        r
    }

    fn eval_prop(
        &mut self,
        node: NodeId,
        ctx: u32,
        idx: Option<usize>,
        calc: &'s Calc,
    ) -> Result<bool, String> {
        match &calc.kind {
            CalcKind::Variable(r) => {
                let Some(target) = &r.target else {
                    return Ok(r.default.as_ref().and_then(Value::as_bool).unwrap_or(false));
                };
                let read = if is_self(node, target) {
                    self.read_self(node, ctx, idx)
                } else if through_dynamic_family(r, target) {
                    self.read_target_strict(node, ctx, idx, target)
                } else {
                    self.read_target(node, ctx, idx, target)
                };
                match read {
                    Ok(v) => {
                        if r.propertyerror == PropertyError::Transitive && calc.when.is_none() {
                            return Ok(false);
                        }
                        let (when, inverse) = match &calc.when {
                            Some(c) => (c.value.clone(), c.inverse),
                            None => (Value::Bool(true), false),
                        };
                        Ok(v.py_eq(&when) != inverse)
                    }
                    Err(Denied::Disabled(m) | Denied::Missing(m)) => match r.propertyerror {
                        PropertyError::Raise => Err(m),
                        PropertyError::Ignore => Ok(false),
                        PropertyError::Transitive => Ok(true),
                    },
                    Err(Denied::Error(e)) => Err(e),
                }
            }
            CalcKind::Jinja(j) => {
                let text = self.render(node, ctx, idx, j, None)?;
                match j.return_type {
                    ReturnType::String => Ok(!text.is_empty() && text != "None"),
                    ReturnType::Boolean => match text.to_lowercase().as_str() {
                        "true" => Ok(true),
                        // Rougail's convert_boolean: "None" is no boolean either
                        "false" | "" => Ok(false),
                        _ => Err(format!("\"{text}\" is an invalid boolean")),
                    },
                }
            }
            CalcKind::Identifier(n) => {
                let ident = self.identifier(ctx, *n).unwrap_or_default();
                let (when, inverse) = match &calc.when {
                    Some(c) => (c.value.clone(), c.inverse),
                    None => (Value::Bool(true), false),
                };
                Ok(Value::Str(ident).py_eq(&when) != inverse)
            }
            CalcKind::Index => {
                let v = idx.map_or(Value::Null, |i| Value::Int(i64::try_from(i).unwrap_or(0)));
                let (when, inverse) = match &calc.when {
                    Some(c) => (c.value.clone(), c.inverse),
                    None => (Value::Bool(true), false),
                };
                Ok(v.py_eq(&when) != inverse)
            }
            CalcKind::Information { .. } | CalcKind::Namespace(_) => {
                let v = self.eval_simple(node, ctx, idx, calc);
                Ok(v.as_bool().unwrap_or(false))
            }
        }
    }

    /// The reason a node (or one of its families) is disabled, if any.
    pub(crate) fn disabled_reason(
        &mut self,
        node: NodeId,
        ctx: u32,
        idx: Option<usize>,
    ) -> Result<Option<String>, String> {
        self.disabled_reason_from(node, ctx, idx, None)
    }

    /// [`Self::disabled_reason`] without the families `caller` is in (or is).
    fn disabled_reason_from(
        &mut self,
        node: NodeId,
        ctx: u32,
        idx: Option<usize>,
        caller: Option<NodeId>,
    ) -> Result<Option<String>, String> {
        let mut chain = Vec::new();
        let mut cur = Some(node);
        while let Some(n) = cur {
            chain.push(n);
            cur = self.schema.node(n).parent;
        }
        let mut skipped = Vec::new();
        let mut cur = caller;
        while let Some(n) = cur {
            if n != node {
                skipped.push(n);
            }
            cur = self.schema.node(n).parent;
        }
        chain.retain(|n| !skipped.contains(n));
        // outermost first, so a disabled family is named before its children
        for n in chain.into_iter().rev() {
            let c = self.truncate(n, ctx);
            let i = if n == node { idx } else { None };
            if self.prop(n, c, i, Which::Disabled)? {
                return Ok(Some(format!("`{}` is disabled", self.concrete(n, c))));
            }
            // a follower is unreachable when its leader is disabled
            if n == node {
                if let Some(Role::Follower(leader)) = self.schema.variable(n).map(|v| v.role) {
                    if self.prop(leader, c, None, Which::Disabled)? {
                        return Ok(Some(format!("`{}` is disabled", self.concrete(leader, c))));
                    }
                }
            }
        }
        Ok(None)
    }

    /// Hidden by itself, by a family, or (for a leadership) by its leader.
    pub(crate) fn hidden(&mut self, node: NodeId, ctx: u32, idx: Option<usize>) -> bool {
        let mut cur = Some(node);
        while let Some(n) = cur {
            let c = self.truncate(n, ctx);
            let i = if n == node { idx } else { None };
            if self.prop(n, c, i, Which::Hidden).unwrap_or(false) {
                return true;
            }
            // hidden on a leader is hidden on its sequence
            if let NodeKind::Family(f) = &self.schema.node(n).kind {
                if matches!(f.kind, FamilyKind::Leadership) {
                    if let Some(leader) = f.children.first().copied() {
                        if leader != node
                            && self.prop(leader, c, None, Which::Hidden).unwrap_or(false)
                        {
                            return true;
                        }
                    }
                }
            }
            cur = self.schema.node(n).parent;
        }
        false
    }

    pub(crate) fn frozen(&mut self, node: NodeId, ctx: u32, idx: Option<usize>) -> bool {
        self.prop(node, ctx, idx, Which::Frozen).unwrap_or(false)
    }

    pub(crate) fn mandatory(&mut self, node: NodeId, ctx: u32, idx: Option<usize>) -> bool {
        self.prop(node, ctx, idx, Which::Mandatory).unwrap_or(false)
    }

    fn allows_null_items(&mut self, node: NodeId, ctx: u32, idx: Option<usize>) -> bool {
        !self.prop(node, ctx, idx, Which::Empty).unwrap_or(true)
    }

    // ------------------------------------------------------------ identifiers

    fn identifier(&self, ctx: u32, n: Option<usize>) -> Option<String> {
        let c = &self.ctxs[ctx as usize];
        match n {
            Some(i) => c.get(i).cloned(),
            None => c.last().cloned(),
        }
    }

    /// The identifiers of a dynamic family in its parent's context.
    pub(crate) fn identifiers(
        &mut self,
        family: NodeId,
        parent_ctx: u32,
    ) -> Result<Rc<Vec<String>>, Denied> {
        let key = (family, parent_ctx);
        match self.idents.get(&key) {
            Some(Memo::Done(r)) => return r.clone(),
            Some(Memo::InProgress) => {
                return Err(Denied::Error(format!(
                    "cycle while computing the identifiers of `{}`",
                    self.schema.node(family).path
                )));
            }
            None => {}
        }
        self.idents.insert(key, Memo::InProgress);
        let r = self.compute_identifiers(family, parent_ctx);
        let r = r.map(Rc::new);
        if let Err(Denied::Error(e)) = &r {
            let path = self.concrete(family, parent_ctx);
            let span = Some(self.value_span(family));
            self.issue_at(
                IssueKind::Calculation,
                path,
                None,
                format!("cannot calculate the identifiers: {e}"),
                span,
            );
        }
        self.idents.insert(key, Memo::Done(r.clone()));
        r
    }

    fn compute_identifiers(&mut self, family: NodeId, ctx: u32) -> Result<Vec<String>, Denied> {
        let schema: &'s Schema = self.schema;
        let Some(f) = schema.family(family) else {
            return Ok(Vec::new());
        };
        let FamilyKind::Dynamic(dynamic) = &f.kind else {
            return Ok(Vec::new());
        };
        let mut raw_idents: Vec<Value> = Vec::new();
        match &**dynamic {
            Dynamic::List(items) => {
                for item in items {
                    match item {
                        Item::Value(v) => raw_idents.push(v.clone()),
                        Item::Calc(c) => {
                            raw_idents.push(self.eval_calc(family, ctx, None, c, false)?)
                        }
                    }
                }
            }
            Dynamic::Calc(c) => match self.eval_calc(family, ctx, None, c, true)? {
                Value::List(items) => raw_idents = items,
                Value::Null => {}
                other => raw_idents.push(other),
            },
        }
        let mut out: Vec<String> = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for v in raw_idents {
            if v.is_null() {
                continue;
            }
            let s = v.python_str();
            let n = normalize_identifier(&s);
            if seen.contains(&n) {
                return Err(Denied::Error(format!(
                    "the identifier `{s}` gives the same family name `{n}` as another identifier"
                )));
            }
            seen.push(n);
            out.push(s);
        }
        Ok(out)
    }

    // ----------------------------------------------------------------- values

    /// Whether the value of a variable instance comes from the values file.
    pub(crate) fn is_user_set(&self, node: NodeId, ctx: u32, idx: Option<usize>) -> bool {
        self.user_set
            .get(&(node, ctx, idx_key(idx)))
            .copied()
            .unwrap_or(false)
    }

    /// The value of a variable instance (for a follower without index: the column).
    pub(crate) fn value(
        &mut self,
        node: NodeId,
        ctx: u32,
        idx: Option<usize>,
    ) -> Result<Value, Denied> {
        let key = (node, ctx, idx_key(idx));
        match self.values.get(&key) {
            Some(Memo::Done(r)) => return r.clone(),
            Some(Memo::InProgress) => {
                return Err(Denied::Error(format!(
                    "cycle between calculations involving `{}`",
                    self.concrete(node, ctx)
                )));
            }
            None => {}
        }
        if self.depth > MAX_DEPTH {
            return Err(Denied::Error(format!(
                "calculations nested more than {MAX_DEPTH} levels deep at `{}`",
                self.concrete(node, ctx)
            )));
        }
        self.values.insert(key, Memo::InProgress);
        self.depth += 1;
        let r = self.compute_value(node, ctx, idx);
        self.depth -= 1;
        if let Err(Denied::Error(e)) = &r {
            let path = self.concrete(node, ctx);
            let span = Some(self.value_span(node));
            self.issue_at(IssueKind::Calculation, path, idx, e.clone(), span);
        }
        self.values.insert(key, Memo::Done(r.clone()));
        r
    }

    fn compute_value(
        &mut self,
        node: NodeId,
        ctx: u32,
        idx: Option<usize>,
    ) -> Result<Value, Denied> {
        let schema: &'s Schema = self.schema;
        let Some(var) = schema.variable(node) else {
            return Err(Denied::Missing(format!(
                "`{}` is a family",
                schema.node(node).path
            )));
        };
        if let (Role::Follower(leader), None) = (var.role, idx) {
            let len = self.leader_len(leader, ctx)?;
            let mut column = Vec::with_capacity(len);
            for i in 0..len {
                match self.disabled_reason(node, ctx, Some(i)) {
                    Ok(Some(_)) => column.push(Value::Null),
                    Ok(None) => column.push(self.value(node, ctx, Some(i))?),
                    Err(e) => return Err(Denied::Error(e)),
                }
            }
            return Ok(Value::List(column));
        }
        let forced_default = !var.auto_save && self.hidden(node, ctx, idx);
        // the values file cannot change a frozen variable either
        let frozen = !forced_default && self.frozen(node, ctx, idx);
        if frozen {
            let path = self.concrete(node, ctx);
            if self.raw.contains_key(&path) {
                self.used_raw.insert(path.clone());
                self.issue(
                    IssueKind::Warning,
                    path.clone(),
                    idx,
                    format!("`{path}` is frozen, its value in the values file is ignored"),
                );
            }
        }
        if !forced_default && !frozen {
            if let Some(v) = self.user_value(node, ctx, idx) {
                self.user_set.insert((node, ctx, idx_key(idx)), true);
                return Ok(v);
            }
        }
        self.default_value(node, ctx, idx)
    }

    /// A property calculation reading its own variable: Rougail makes it a
    /// `ParamSelfOption`, which reads the value without checking the
    /// variable's properties (no cycle through `hidden`/`disabled`).
    fn read_self(&mut self, node: NodeId, ctx: u32, idx: Option<usize>) -> Result<Value, Denied> {
        let key = (node, ctx, idx_key(idx));
        if let Some(Memo::Done(r)) = self.values.get(&key) {
            return r.clone();
        }
        if !self.self_reads.insert(key) {
            return Err(Denied::Error(format!(
                "cycle between calculations involving `{}`",
                self.concrete(node, ctx)
            )));
        }
        let r = match self.user_value(node, ctx, idx) {
            Some(v) => Ok(v),
            None => self.default_value(node, ctx, idx),
        };
        self.self_reads.remove(&key);
        r
    }

    fn leader_len(&mut self, leader: NodeId, ctx: u32) -> Result<usize, Denied> {
        Ok(match self.value(leader, ctx, None)? {
            Value::List(items) => items.len(),
            _ => 0,
        })
    }

    /// The administrator's value, converted and type-checked (refused ones are issues).
    fn user_value(&mut self, node: NodeId, ctx: u32, idx: Option<usize>) -> Option<Value> {
        let schema: &'s Schema = self.schema;
        let var = schema.variable(node)?;
        let path = self.concrete(node, ctx);
        let slot = self.raw.get(&path)?.clone();
        self.used_raw.insert(path.clone());
        let own_multi = match var.role {
            Role::Follower(_) => var.submulti,
            _ => var.multi,
        };
        let raw = match (var.role, slot, idx) {
            (Role::Follower(_), Slot::Column(col), Some(i)) => col.get(i).cloned().flatten()?,
            (Role::Follower(_), Slot::Value(Value::List(items)), Some(i)) => {
                items.get(i).cloned()?
            }
            (Role::Follower(_), _, _) => return None,
            (Role::Leader, Slot::Column(col), _) => {
                Value::List(col.into_iter().map(Option::unwrap_or_default).collect())
            }
            (_, Slot::Value(v), _) => v,
            (_, Slot::Column(_), _) => {
                self.issue(
                    IssueKind::InvalidValue,
                    path,
                    idx,
                    "a list of rows is given but the variable is not a leader".to_owned(),
                );
                return None;
            }
        };
        let value = if own_multi {
            match raw {
                Value::List(items) => {
                    Value::List(items.into_iter().map(|v| convert_user(var.ty, v)).collect())
                }
                Value::Null => Value::List(Vec::new()),
                other => {
                    let shown = if var.is_secret() {
                        SECRET_MASK.to_owned()
                    } else {
                        other.display()
                    };
                    self.issue(IssueKind::InvalidValue, path, idx, format!(
                        "the value `{shown}` is not a list but the variable is multi, it is ignored"
                    ));
                    return None;
                }
            }
        } else {
            match raw {
                Value::List(items) => {
                    let shown = if var.is_secret() {
                        SECRET_MASK.to_owned()
                    } else {
                        Value::List(items).display()
                    };
                    self.issue(IssueKind::InvalidValue, path, idx, format!(
                        "the value `[{shown}]` is a list but the variable is not multi, it is ignored"
                    ));
                    return None;
                }
                other => convert_user(var.ty, other),
            }
        };
        match self.check_value(node, ctx, idx, &value) {
            Ok(()) => Some(value),
            Err(reason) => {
                self.issue(
                    IssueKind::InvalidValue,
                    path,
                    idx,
                    format!("{reason}, it is ignored"),
                );
                None
            }
        }
    }

    /// Type, choices and regexp checks of a value (warnings are issues too).
    pub(crate) fn check_value(
        &mut self,
        node: NodeId,
        ctx: u32,
        idx: Option<usize>,
        value: &Value,
    ) -> Result<(), String> {
        let schema: &'s Schema = self.schema;
        let Some(var) = schema.variable(node) else {
            return Ok(());
        };
        let items: Vec<&Value> = match value {
            Value::List(items)
                if var.multi && (!matches!(var.role, Role::Follower(_)) || var.submulti) =>
            {
                items.iter().collect()
            }
            other => vec![other],
        };
        let choices = if var.choices.is_some() {
            Some(self.choices(node, ctx, idx)?)
        } else {
            None
        };
        for item in items {
            if item.is_null() {
                continue;
            }
            // A secret is never written into a message, even when refused
            // (written only for a message: most values are valid).
            let shown = || {
                if var.is_secret() {
                    SECRET_MASK.to_owned()
                } else {
                    item.display()
                }
            };
            match types::check(var.ty, &var.params, item) {
                Check::Valid => {}
                Check::Warning(w) => {
                    let path = self.concrete(node, ctx);
                    self.issue(IssueKind::Warning, path, idx, format!("`{}` {w}", shown()));
                }
                Check::Invalid(reason) if var.warnings => {
                    let path = self.concrete(node, ctx);
                    self.issue(
                        IssueKind::Warning,
                        path,
                        idx,
                        format!("`{}` is an invalid {}, {reason}", shown(), var.type_name),
                    );
                }
                Check::Invalid(reason) => {
                    return Err(format!(
                        "`{}` is an invalid {}, {reason}",
                        shown(),
                        var.type_name
                    ));
                }
            }
            if let Some(choices) = &choices {
                if !choices.iter().any(|c| {
                    c == item
                        || (c.py_eq(item)
                            && std::mem::discriminant(c) == std::mem::discriminant(item))
                }) {
                    let list: Vec<String> = choices
                        .iter()
                        .map(|c| format!("`{}`", c.python_str()))
                        .collect();
                    return Err(format!(
                        "`{}` is not one of the choices {}",
                        shown(),
                        list.join(", ")
                    ));
                }
            }
            if let (Some(re), Value::Str(s)) = (&var.regexp, item) {
                if !re.regex.is_match(s).unwrap_or(false) {
                    return Err(format!(
                        "`{}` does not match the regexp `{}`",
                        shown(),
                        re.source
                    ));
                }
            }
        }
        Ok(())
    }

    /// The resolved choices of a variable.
    pub(crate) fn choices(
        &mut self,
        node: NodeId,
        ctx: u32,
        idx: Option<usize>,
    ) -> Result<Vec<Value>, String> {
        let schema: &'s Schema = self.schema;
        let Some(var) = schema.variable(node) else {
            return Ok(Vec::new());
        };
        let mut out = match &var.choices {
            None => return Ok(Vec::new()),
            Some(Choices::List(items)) => {
                let mut out = Vec::new();
                for item in items {
                    match item {
                        Item::Value(v) => out.push(v.clone()),
                        Item::Calc(c) => out.push(
                            self.eval_calc(node, ctx, idx, c, false)
                                .map_err(|d| d.message())?,
                        ),
                    }
                }
                out
            }
            Some(Choices::Calc(c)) => match self
                .eval_calc(node, ctx, idx, c, true)
                .map_err(|d| d.message())?
            {
                Value::List(items) => items,
                Value::Null => Vec::new(),
                other => vec![other],
            },
        };
        let optional = !var.multi && !self.mandatory(node, ctx, idx);
        if optional && !out.iter().any(Value::is_null) {
            out.push(Value::Null);
        }
        Ok(out)
    }

    fn default_value(
        &mut self,
        node: NodeId,
        ctx: u32,
        idx: Option<usize>,
    ) -> Result<Value, Denied> {
        let schema: &'s Schema = self.schema;
        let Some(var) = schema.variable(node) else {
            return Ok(Value::Null);
        };
        let is_follower = matches!(var.role, Role::Follower(_));
        let own_multi = if is_follower { var.submulti } else { var.multi };
        let empty = || {
            if own_multi {
                Value::List(Vec::new())
            } else {
                Value::Null
            }
        };
        match &var.default {
            Default::None => Ok(if is_follower {
                var.default_multi.clone().unwrap_or_else(empty)
            } else {
                empty()
            }),
            Default::Value(v) => Ok(v.clone()),
            Default::Calc(c) => {
                let v = self.eval_calc(node, ctx, idx, c, own_multi)?;
                Ok(match v {
                    Value::Null if own_multi => Value::List(Vec::new()),
                    other => other,
                })
            }
            Default::Items(items) => {
                let mut out = Vec::new();
                for item in items {
                    match item {
                        Item::Value(v) => out.push(v.clone()),
                        Item::Calc(c) => {
                            if self.absent_optional(node, ctx, idx, c) {
                                continue;
                            }
                            out.push(self.eval_calc(node, ctx, idx, c, false)?);
                        }
                    }
                }
                Ok(Value::List(out))
            }
        }
    }

    /// Whether a list item is an optional variable calculation whose source is absent.
    fn absent_optional(
        &mut self,
        node: NodeId,
        ctx: u32,
        idx: Option<usize>,
        calc: &'s Calc,
    ) -> bool {
        let CalcKind::Variable(r) = &calc.kind else {
            return false;
        };
        if !r.optional || r.default.is_some() {
            return false;
        }
        match &r.target {
            None => true,
            Some(t) => matches!(self.read_ref(node, ctx, idx, r, t), Err(Denied::Missing(_))),
        }
    }

    /// Read the source of a variable calculation, honouring a calculated identifier.
    fn read_ref(
        &mut self,
        node: NodeId,
        ctx: u32,
        idx: Option<usize>,
        r: &'s VarRef,
        t: &Target,
    ) -> Result<Value, Denied> {
        let Some(calc) = &r.identifier else {
            if through_dynamic_family(r, t) {
                return self.read_target_strict(node, ctx, idx, t);
            }
            return self.read_target(node, ctx, idx, t);
        };
        let ident = self.eval_calc(node, ctx, idx, calc, false)?;
        if ident.is_null() {
            return Ok(Value::Null);
        }
        let mut target = t.clone();
        if let Some(pos) = target
            .selectors
            .iter()
            .rposition(|s| matches!(s, Selector::Current | Selector::All))
        {
            target.selectors[pos] = Selector::Fixed(normalize_identifier(&ident.python_str()));
        }
        self.read_target(node, ctx, idx, &target)
    }

    // ----------------------------------------------------------- calculations

    /// Evaluate a value calculation (default, choices, identifiers).
    fn eval_calc(
        &mut self,
        node: NodeId,
        ctx: u32,
        idx: Option<usize>,
        calc: &'s Calc,
        multi: bool,
    ) -> Result<Value, Denied> {
        match &calc.kind {
            CalcKind::Variable(r) => {
                let v = match &r.target {
                    None => Value::Null,
                    Some(t) => match self.read_ref(node, ctx, idx, r, t) {
                        Ok(v) => v,
                        Err(Denied::Disabled(m) | Denied::Missing(m)) => {
                            if r.propertyerror == PropertyError::Raise && !r.optional {
                                return Err(Denied::Error(format!("cannot read {m}")));
                            }
                            Value::Null
                        }
                        Err(e) => return Err(e),
                    },
                };
                let v = match (&r.default, &v) {
                    (Some(d), Value::Null) => d.clone(),
                    (Some(d), Value::List(l)) if l.is_empty() => d.clone(),
                    _ => v,
                };
                Ok(v)
            }
            CalcKind::Jinja(j) => {
                let text = self
                    .render(node, ctx, idx, j, None)
                    .map_err(Denied::Error)?;
                let ty = j.convert;
                if multi {
                    let mut out = Vec::new();
                    for line in text.split('\n') {
                        let line = line.trim();
                        if line.is_empty() {
                            continue;
                        }
                        out.push(types::from_jinja_output(ty, line).map_err(Denied::Error)?);
                    }
                    Ok(Value::List(out))
                } else {
                    types::from_jinja_output(ty, &text).map_err(Denied::Error)
                }
            }
            _ => Ok(self.eval_simple(node, ctx, idx, calc)),
        }
    }

    fn eval_simple(&mut self, node: NodeId, ctx: u32, idx: Option<usize>, calc: &'s Calc) -> Value {
        match &calc.kind {
            CalcKind::Identifier(n) => self.identifier(ctx, *n).map_or(Value::Null, Value::Str),
            CalcKind::Index => {
                idx.map_or(Value::Null, |i| Value::Int(i64::try_from(i).unwrap_or(0)))
            }
            CalcKind::Namespace(s) => Value::Str(s.clone()),
            CalcKind::Information { name, variable } => {
                self.information(node, ctx, name, variable.as_ref())
            }
            CalcKind::Variable(_) | CalcKind::Jinja(_) => Value::Null,
        }
    }

    /// Informations Rougail attaches to a variable (`help`, `type`, …); unknown ones are null.
    fn information(
        &mut self,
        _node: NodeId,
        _ctx: u32,
        name: &str,
        variable: Option<&Target>,
    ) -> Value {
        let Some(t) = variable else {
            return Value::Null;
        };
        let n = self.schema.node(t.node);
        match name {
            "help" => n.help.clone().map_or(Value::Null, Value::Str),
            "description" | "doc" => Value::Str(n.description.clone()),
            "type" => self
                .schema
                .variable(t.node)
                .map_or(Value::Null, |v| Value::Str(v.type_name.clone())),
            "tags" => Value::List(n.tags.iter().cloned().map(Value::Str).collect()),
            "examples" => self
                .schema
                .variable(t.node)
                .map_or(Value::Null, |v| Value::List(v.examples.clone())),
            "test" => self
                .schema
                .variable(t.node)
                .map_or(Value::Null, |v| Value::List(v.test.clone())),
            _ => Value::Null,
        }
    }

    /// Read a referenced variable from a caller's context.
    pub(crate) fn read_target(
        &mut self,
        caller: NodeId,
        ctx: u32,
        idx: Option<usize>,
        target: &Target,
    ) -> Result<Value, Denied> {
        self.read_at(caller, ctx, idx, target, 0, Vec::new(), false)
    }

    /// [`Self::read_target`] for a `variable` calculation going through a
    /// dynamic family without naming the instance: an inaccessible instance
    /// among all of them is an error, not skipped (see `through_dynamic_family`).
    fn read_target_strict(
        &mut self,
        caller: NodeId,
        ctx: u32,
        idx: Option<usize>,
        target: &Target,
    ) -> Result<Value, Denied> {
        self.read_at(caller, ctx, idx, target, 0, Vec::new(), true)
    }

    #[allow(clippy::too_many_arguments)]
    fn read_at(
        &mut self,
        caller: NodeId,
        ctx: u32,
        idx: Option<usize>,
        target: &Target,
        k: usize,
        partial: Vec<String>,
        strict: bool,
    ) -> Result<Value, Denied> {
        let anc = self.dyn_anc[target.node.index()].clone();
        if k >= anc.len() {
            let tctx = self.ctx_id(partial);
            // Tiramisu reaches a variable of a dynamic family from the
            // caller's own node (`get_common_child`): the families the caller
            // is in are not checked again (a family's `disabled` may read its
            // own child there; elsewhere that is a cycle, as in Rougail).
            let from_caller = !anc.is_empty()
                && target
                    .selectors
                    .iter()
                    .all(|s| matches!(s, Selector::Current));
            let r = self.read_final(caller, ctx, idx, target.node, tctx, from_caller);
            if let (true, Err(Denied::Disabled(m))) = (strict, &r) {
                // the variable's own `disabled` (not a family's): an error
                let own = self
                    .prop(target.node, tctx, None, Which::Disabled)
                    .map_err(Denied::Error)?
                    || (idx.is_some()
                        && self
                            .prop(target.node, tctx, idx, Which::Disabled)
                            .map_err(Denied::Error)?);
                if own {
                    return Err(Denied::Error(format!("cannot read {m}")));
                }
            }
            return r;
        }
        let d = anc[k];
        let pctx = self.ctx_id(partial.clone());
        match target
            .selectors
            .get(k)
            .cloned()
            .unwrap_or(Selector::Current)
        {
            Selector::Fixed(name) => {
                let idents = self.identifiers(d, pctx)?;
                let Some(ident) = idents
                    .iter()
                    .find(|i| normalize_identifier(i) == name || **i == name)
                    .cloned()
                else {
                    return Err(Denied::Missing(format!(
                        "`{}` (no instance `{name}` of `{}`)",
                        self.schema.node(target.node).path,
                        self.schema.node(d).path
                    )));
                };
                let mut next = partial;
                next.push(ident);
                self.read_at(caller, ctx, idx, target, k + 1, next, strict)
            }
            selector @ (Selector::Current | Selector::All) => {
                let caller_anc = self.dyn_anc[caller.index()].clone();
                let cctx = self.ctx(ctx);
                if selector == Selector::Current && caller_anc.get(k) == Some(&d) && cctx.len() > k
                {
                    let mut next = partial;
                    next.push(cctx[k].clone());
                    return self.read_at(caller, ctx, idx, target, k + 1, next, strict);
                }
                let idents = self.identifiers(d, pctx)?;
                let mut out = Vec::with_capacity(idents.len());
                for ident in idents.iter() {
                    let mut next = partial.clone();
                    next.push(ident.clone());
                    match self.read_at(caller, ctx, idx, target, k + 1, next, strict) {
                        Ok(v) => out.push(v),
                        Err(Denied::Disabled(_) | Denied::Missing(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(Value::List(out))
            }
        }
    }

    fn read_final(
        &mut self,
        caller: NodeId,
        ctx: u32,
        idx: Option<usize>,
        node: NodeId,
        tctx: u32,
        from_caller: bool,
    ) -> Result<Value, Denied> {
        let reason = if from_caller {
            self.disabled_reason_from(node, tctx, None, Some(caller))
        } else {
            self.disabled_reason(node, tctx, None)
        };
        if let Some(reason) = reason.map_err(Denied::Error)? {
            return Err(Denied::Disabled(reason));
        }
        let schema: &'s Schema = self.schema;
        let Some(var) = schema.variable(node) else {
            return Err(Denied::Missing(format!(
                "`{}` is a family",
                schema.node(node).path
            )));
        };
        let same_leadership = tctx == ctx
            && schema.node(caller).parent == schema.node(node).parent
            && schema.variable(caller).is_some();
        match (var.role, idx) {
            (Role::Leader, Some(i)) if same_leadership => match self.value(node, tctx, None)? {
                Value::List(items) => Ok(items.get(i).cloned().unwrap_or(Value::Null)),
                other => Ok(other),
            },
            (Role::Follower(_), Some(i)) if same_leadership => {
                if let Some(reason) = self
                    .disabled_reason(node, tctx, Some(i))
                    .map_err(Denied::Error)?
                {
                    return Err(Denied::Disabled(reason));
                }
                self.value(node, tctx, Some(i))
            }
            _ => self.value(node, tctx, None),
        }
    }

    /// Render a jinja calculation (`own` overrides the caller's own value for
    /// validators: the item being checked, and the whole value for `whole` params).
    pub(crate) fn render(
        &mut self,
        node: NodeId,
        ctx: u32,
        idx: Option<usize>,
        j: &'s Jinja,
        own: Option<(&Value, &Value)>,
    ) -> Result<String, String> {
        let mut b = ContextBuilder::default();
        for (chain, r) in &j.vars {
            let Some(t) = &r.target else { continue };
            if let (Some((item, _)), true) = (own, t.node == node) {
                b.insert(chain, expr::to_tera(item));
                continue;
            }
            let read = if own.is_none() && is_self(node, t) {
                self.read_self(node, ctx, idx)
            } else {
                self.read_target(node, ctx, idx, t)
            };
            match read {
                Ok(v) => b.insert(chain, expr::to_tera(&v)),
                Err(Denied::Disabled(m)) => {
                    b.insert(chain, expr::inaccessible(&format!("cannot read {m}")))
                }
                Err(Denied::Missing(_)) => {}
                Err(Denied::Error(e)) => return Err(e),
            }
        }
        for chain in &j.families {
            b.insert_missing(chain);
        }
        for (name, p) in &j.params {
            let key = vec![name.clone()];
            match p {
                Param::Value(v) => b.insert(&key, expr::to_tera(v)),
                Param::Variable(r) => {
                    let Some(t) = &r.target else { continue };
                    if let (Some((item, whole)), true) = (own, t.node == node) {
                        b.insert(&key, expr::to_tera(if r.whole { whole } else { item }));
                        continue;
                    }
                    match self.read_target(node, ctx, if r.whole { None } else { idx }, t) {
                        Ok(v) => b.insert(&key, expr::to_tera(&v)),
                        Err(Denied::Disabled(m) | Denied::Missing(m)) => {
                            if r.optional {
                                continue;
                            }
                            if r.propertyerror == PropertyError::Raise {
                                return Err(format!("cannot read {m}"));
                            }
                            b.insert(&key, expr::inaccessible(&format!("cannot read {m}")));
                        }
                        Err(Denied::Error(e)) => return Err(e),
                    }
                }
                Param::Identifier(n) => {
                    if let Some(i) = self.identifier(ctx, *n) {
                        b.insert(&key, expr::to_tera(&Value::Str(i)));
                    }
                }
                Param::Index => {
                    if let Some(i) = idx {
                        b.insert(&key, tera::Value::from(i));
                    }
                }
                Param::Information {
                    name: info,
                    variable,
                } => {
                    let v = self.information(node, ctx, info, variable.as_ref());
                    b.insert(&key, expr::to_tera(&v));
                }
                Param::Namespace(s) => b.insert(&key, expr::to_tera(&Value::Str(s.clone()))),
            }
        }
        let schema: &'s Schema = self.schema;
        let e = schema.expr(j.expr);
        schema.engine().render(e, &b.build())
    }

    /// Run the validators of a variable on its value (each item of a multi,
    /// nulls skipped); returns (errors, warnings).
    pub(crate) fn validate(
        &mut self,
        node: NodeId,
        ctx: u32,
        idx: Option<usize>,
        value: &Value,
    ) -> (Vec<String>, Vec<String>) {
        let schema: &'s Schema = self.schema;
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let Some(var) = schema.variable(node) else {
            return (errors, warnings);
        };
        let own_multi = match var.role {
            Role::Follower(_) => var.submulti,
            _ => var.multi,
        };
        let items: Vec<(Option<usize>, &Value)> = match value {
            Value::List(list) if own_multi && !matches!(var.role, Role::Follower(_)) => {
                list.iter().enumerate().map(|(i, v)| (Some(i), v)).collect()
            }
            other => vec![(idx, other)],
        };
        for calc in &var.validators {
            let CalcKind::Jinja(j) = &calc.kind else {
                continue;
            };
            for (i, item) in &items {
                if item.is_null() {
                    continue;
                }
                match self.render(node, ctx, *i, j, Some((item, value))) {
                    Ok(text)
                        if j.return_type == ReturnType::Boolean
                            && !matches!(text.to_lowercase().as_str(), "true" | "false" | "") =>
                    {
                        errors.push(format!(
                            "cannot run a validator: \"{text}\" is an invalid boolean"
                        ));
                    }
                    Ok(text) => {
                        let invalid = match j.return_type {
                            ReturnType::String => !text.is_empty() && text != "None",
                            ReturnType::Boolean => text.eq_ignore_ascii_case("true"),
                        };
                        if invalid {
                            let msg = match (&calc.description, j.return_type) {
                                (Some(d), ReturnType::Boolean) => d.clone(),
                                (_, ReturnType::String) => text,
                                (None, ReturnType::Boolean) => "invalid value".to_owned(),
                            };
                            if calc.warnings {
                                warnings.push(msg);
                            } else {
                                errors.push(msg);
                            }
                        }
                    }
                    Err(e) => errors.push(format!("cannot run a validator: {e}")),
                }
            }
        }
        (errors, warnings)
    }

    /// Unique and non-empty checks of a multi value.
    pub(crate) fn multi_checks(&self, node: NodeId, value: &Value) -> Vec<String> {
        let schema: &'s Schema = self.schema;
        let mut out = Vec::new();
        let Some(var) = schema.variable(node) else {
            return out;
        };
        let own_multi = match var.role {
            Role::Follower(_) => var.submulti,
            _ => var.multi,
        };
        let Value::List(items) = value else {
            return out;
        };
        if !own_multi {
            return out;
        }
        if var.unique {
            for (i, a) in items.iter().enumerate() {
                if !a.is_null() && items[..i].iter().any(|b| b == a) {
                    let shown = if var.is_secret() {
                        SECRET_MASK.to_owned()
                    } else {
                        a.display()
                    };
                    out.push(format!("the value `{shown}` is not unique"));
                    break;
                }
            }
        }
        out
    }

    /// Paths of the values file no variable used (unknown, disabled or hidden).
    pub(crate) fn unused_raw(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .raw
            .keys()
            .filter(|k| !self.used_raw.contains(*k))
            .cloned()
            .collect();
        out.sort();
        out
    }

    // -------------------------------------------------------------- the walk

    /// Resolve everything into a [`Config`].
    pub(crate) fn run(mut self) -> Config {
        // evaluate in static dependency order to keep the recursion shallow
        let order = self.schema.data().order.clone();
        for id in order {
            if self.dyn_anc[id.index()].is_empty()
                && !matches!(
                    self.schema.variable(id).map(|v| v.role),
                    Some(Role::Follower(_))
                )
            {
                if let Ok(None) = self.disabled_reason(id, 0, None) {
                    let _ = self.value(id, 0, None);
                }
            }
        }
        let mut entries = Vec::with_capacity(self.schema.data().nodes.len());
        let roots = self.schema.roots().to_vec();
        for root in roots {
            self.walk(root, 0, None, &mut entries);
        }
        // two instances with one name (a dynamic instance named like a sibling)
        let (by_path, repeated) = PathIndex::build(&entries);
        let conflicts: Vec<(String, NodeId)> = repeated
            .into_iter()
            .map(|i| (entries[i].path.clone(), entries[i].node))
            .collect();
        for (path, node) in conflicts {
            let span = Some(self.schema.node(node).span.clone());
            self.issue_at(
                IssueKind::Calculation,
                path.clone(),
                None,
                format!("the name `{path}` is used twice (a dynamic family instance has the name of another family or variable)"),
                span,
            );
        }
        let unused = self.unused_raw();
        for path in unused {
            let used_by_disabled = entries.iter().any(|e: &Entry| e.path == path);
            if !used_by_disabled {
                self.issue(IssueKind::UnknownVariable, path.clone(), None, format!(
                    "`{path}` in the values file is not a variable of the dictionaries, it is ignored"
                ));
            }
        }
        Config::new(
            self.schema.clone(),
            (entries, by_path),
            std::mem::take(&mut self.issues),
            self.raw_values.clone(),
        )
    }

    fn walk(&mut self, node: NodeId, ctx: u32, parent: Option<usize>, out: &mut Vec<Entry>) {
        let schema: &'s Schema = self.schema;
        let n = schema.node(node);
        match &n.kind {
            NodeKind::Family(f) => {
                if let FamilyKind::Dynamic(_) = f.kind {
                    let Ok(idents) = self.identifiers(node, ctx) else {
                        return;
                    };
                    for ident in idents.iter() {
                        let mut c = (*self.ctx(ctx)).clone();
                        c.push(ident.clone());
                        let cid = self.ctx_id(c);
                        self.walk_family(node, cid, parent, Some(ident.clone()), out);
                    }
                } else {
                    self.walk_family(node, ctx, parent, None, out);
                }
            }
            NodeKind::Variable(_) => self.walk_variable(node, ctx, parent, out),
        }
    }

    fn walk_family(
        &mut self,
        node: NodeId,
        ctx: u32,
        parent: Option<usize>,
        identifier: Option<String>,
        out: &mut Vec<Entry>,
    ) {
        let schema: &'s Schema = self.schema;
        let path = self.concrete(node, ctx);
        let disabled = self.prop(node, ctx, None, Which::Disabled).unwrap_or(true);
        let hidden = self.hidden(node, ctx, None);
        let index = out.len();
        out.push(Entry {
            node,
            path,
            parent,
            identifier,
            identifiers: (*self.ctx(ctx)).clone(),
            disabled,
            hidden,
            frozen: false,
            mandatory: false,
            user_set: false,
            kind: EntryKind::Family,
            value: Value::Null,
            rows_disabled: Vec::new(),
            choices: None,
        });
        if disabled {
            // keep the static subtree, marked disabled, so `get` can say why
            if let Some(f) = schema.family(node) {
                for child in f.children.clone() {
                    self.walk_disabled(child, ctx, Some(index), out);
                }
            }
            return;
        }
        if let Some(f) = schema.family(node) {
            for child in f.children.clone() {
                self.walk(child, ctx, Some(index), out);
            }
        }
    }

    /// Entries under a disabled family: marked disabled, nothing evaluated;
    /// dynamic families (whose instances cannot be known) are left out.
    fn walk_disabled(
        &mut self,
        node: NodeId,
        ctx: u32,
        parent: Option<usize>,
        out: &mut Vec<Entry>,
    ) {
        let schema: &'s Schema = self.schema;
        let n = schema.node(node);
        let kind = match &n.kind {
            NodeKind::Family(f) if matches!(f.kind, FamilyKind::Dynamic(_)) => return,
            NodeKind::Family(_) => EntryKind::Family,
            NodeKind::Variable(v) => match v.role {
                Role::Leader => EntryKind::Leader,
                Role::Follower(_) => EntryKind::Follower,
                Role::Plain => EntryKind::Variable,
            },
        };
        let index = out.len();
        out.push(Entry {
            node,
            path: self.concrete(node, ctx),
            parent,
            identifier: None,
            identifiers: (*self.ctx(ctx)).clone(),
            disabled: true,
            hidden: false,
            frozen: false,
            mandatory: false,
            user_set: false,
            kind,
            value: Value::Null,
            rows_disabled: Vec::new(),
            choices: None,
        });
        if let Some(f) = schema.family(node) {
            for child in f.children.clone() {
                self.walk_disabled(child, ctx, Some(index), out);
            }
        }
    }

    fn walk_variable(
        &mut self,
        node: NodeId,
        ctx: u32,
        parent: Option<usize>,
        out: &mut Vec<Entry>,
    ) {
        let schema: &'s Schema = self.schema;
        let Some(var) = schema.variable(node) else {
            return;
        };
        let path = self.concrete(node, ctx);
        let disabled = self.prop(node, ctx, None, Which::Disabled).unwrap_or(true);
        let hidden = self.hidden(node, ctx, None);
        let frozen = self.frozen(node, ctx, None) || hidden;
        let mut entry = Entry {
            node,
            path: path.clone(),
            parent,
            identifier: None,
            identifiers: (*self.ctx(ctx)).clone(),
            disabled,
            hidden,
            frozen,
            mandatory: false,
            user_set: false,
            kind: match var.role {
                Role::Leader => EntryKind::Leader,
                Role::Follower(_) => EntryKind::Follower,
                Role::Plain => EntryKind::Variable,
            },
            value: Value::Null,
            rows_disabled: Vec::new(),
            choices: None,
        };
        if disabled {
            out.push(entry);
            return;
        }
        // a follower disabled because its leader is
        if let Role::Follower(leader) = var.role {
            if self
                .prop(leader, ctx, None, Which::Disabled)
                .unwrap_or(true)
            {
                entry.disabled = true;
                out.push(entry);
                return;
            }
        }
        entry.mandatory = self.mandatory(node, ctx, None);
        if var.choices.is_some() {
            entry.choices = self.choices(node, ctx, None).ok();
        }
        match var.role {
            Role::Follower(leader) => {
                let len = self.leader_len(leader, ctx).unwrap_or(0);
                let mut column = Vec::with_capacity(len);
                let mut row_disabled = Vec::with_capacity(len);
                let mut any_user = false;
                for i in 0..len {
                    match self.disabled_reason(node, ctx, Some(i)) {
                        Ok(None) => {
                            let v = self.value(node, ctx, Some(i)).unwrap_or(Value::Null);
                            any_user |= self.is_user_set(node, ctx, Some(i));
                            self.check_entry(node, ctx, Some(i), &path, &v);
                            column.push(v);
                            row_disabled.push(false);
                        }
                        _ => {
                            column.push(Value::Null);
                            row_disabled.push(true);
                        }
                    }
                }
                entry.value = Value::List(column);
                entry.rows_disabled = row_disabled;
                entry.user_set = any_user;
            }
            _ => {
                let v = self.value(node, ctx, None).unwrap_or(Value::Null);
                entry.user_set = self.is_user_set(node, ctx, None);
                self.check_entry(node, ctx, None, &path, &v);
                entry.value = v;
            }
        }
        out.push(entry);
    }

    /// Validators, unique/empty and mandatory checks of a resolved value.
    fn check_entry(
        &mut self,
        node: NodeId,
        ctx: u32,
        idx: Option<usize>,
        path: &str,
        value: &Value,
    ) {
        let schema: &'s Schema = self.schema;
        let Some(var) = schema.variable(node) else {
            return;
        };
        let user_set = self.is_user_set(node, ctx, idx);
        if !user_set {
            // computed values are checked too (a calculation may produce an invalid value)
            if let Err(reason) = self.check_value(node, ctx, idx, value) {
                let span = Some(self.value_span(node));
                self.issue_at(
                    IssueKind::Calculation,
                    path.to_owned(),
                    idx,
                    format!("the calculated value is invalid: {reason}"),
                    span,
                );
            }
        }
        // a default or calculated value the variable refuses breaks the view
        // (Rougail raises); a refused user value was already left out.
        let (kind, span) = if user_set {
            (IssueKind::InvalidValue, None)
        } else {
            (IssueKind::Calculation, Some(self.value_span(node)))
        };
        for msg in self.multi_checks(node, value) {
            self.issue_at(kind, path.to_owned(), idx, msg, span.clone());
        }
        if !var.validators.is_empty() {
            let (errors, warnings) = self.validate(node, ctx, idx, value);
            for e in errors {
                self.issue_at(kind, path.to_owned(), idx, e, span.clone());
            }
            for w in warnings {
                self.issue(IssueKind::Warning, path.to_owned(), idx, w);
            }
        }
        let own_multi = match var.role {
            Role::Follower(_) => var.submulti,
            _ => var.multi,
        };
        // null items are refused with the mandatory checks (Tiramisu's `empty`)
        if let Value::List(items) = value {
            if own_multi
                && items.iter().any(Value::is_null)
                && !self.allows_null_items(node, ctx, idx)
            {
                self.issue(
                    IssueKind::Mandatory,
                    path.to_owned(),
                    idx,
                    "null is not a valid value for a multi".to_owned(),
                );
            }
        }
        let missing = match value {
            Value::Null => true,
            Value::List(items) if own_multi => items.is_empty(),
            _ => false,
        };
        if missing && self.mandatory(node, ctx, idx) {
            let msg = match idx {
                Some(i) => format!("mandatory variable at index {i} but has no value"),
                None => "mandatory variable but has no value".to_owned(),
            };
            self.issue(IssueKind::Mandatory, path.to_owned(), idx, msg);
        }
    }
}

/// A `variable` calculation reading a variable of a dynamic family through the
/// caller's own instance or all instances (no instance named in the path):
/// Tiramisu gets it as a "common child" and hands the property error of a
/// disabled variable over as the value instead of raising it, so
/// `propertyerror: false` (or `transitive`) does not apply and a disabled
/// source is an error (a disabled family on the way raises as usual)
/// (tiramisu/autolib.py `get_common_child`; jinja is not concerned: it tests
/// such a value with `is propertyerror`).
/// The calculation reads the variable that carries it (its own instance).
fn is_self(node: NodeId, target: &Target) -> bool {
    target.node == node
        && target
            .selectors
            .iter()
            .all(|s| matches!(s, Selector::Current))
}

fn through_dynamic_family(r: &VarRef, target: &Target) -> bool {
    r.identifier.is_none()
        && !target.selectors.is_empty()
        && !target
            .selectors
            .iter()
            .any(|s| matches!(s, Selector::Fixed(_)))
}

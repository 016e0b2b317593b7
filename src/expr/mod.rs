//! Rougail's Jinja expressions evaluated with tera 2: [`translate`] rewrites
//! the Jinja-isms (see docs/jinja-vs-tera.md), [`Engine`] compiles every
//! expression of a schema once into one tera instance with brise's built-in
//! filters and tests, and renders one with a context of variable values.
//! Pure: no I/O; errors are messages for the caller to place.

mod builtins;
mod translate;

use std::fmt;

use tera::{Context, Tera};

pub(crate) use builtins::{INACCESSIBLE, KNOWN_FILTERS, KNOWN_TESTS};
pub(crate) use translate::{TranslateError, Translated, translate};

use crate::dictionary::value::Value;

/// One compiled expression.
#[derive(Debug, Clone)]
pub struct Expr {
    /// The template name inside the engine.
    pub(crate) name: String,
    /// The Jinja source as written in the dictionary.
    pub source: String,
    /// Dotted names the expression reads.
    pub chains: Vec<Vec<String>>,
}

/// Every expression of a schema, compiled once.
pub struct Engine {
    tera: Tera,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

/// A tera error as a one-line message.
pub(crate) fn error_message(error: &tera::Error) -> String {
    use tera::ErrorKind;
    let mut msg = match error.kind() {
        ErrorKind::SyntaxError(r) | ErrorKind::RenderingError(r) => r.message().to_owned(),
        other => other.to_string(),
    };
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

fn new_tera() -> Tera {
    let mut tera = Tera::new();
    tera.autoescape_on(Vec::<&str>::new());
    builtins::register(&mut tera);
    tera
}

impl Engine {
    /// Compile templates `(name, tera text)`. On failure, returns the index and
    /// message of every template that does not compile.
    pub(crate) fn build(templates: &[(String, String)]) -> Result<Self, Vec<(usize, String)>> {
        let mut tera = new_tera();
        if tera
            .add_raw_templates(templates.iter().map(|(n, t)| (n.as_str(), t.as_str())))
            .is_ok()
        {
            return Ok(Self { tera });
        }
        // Slow path, only when something is wrong: find every faulty template.
        let mut errors = Vec::new();
        let mut good = Vec::new();
        for (i, (name, text)) in templates.iter().enumerate() {
            let mut one = new_tera();
            match one.add_raw_template(name, text) {
                Ok(()) => good.push((name.as_str(), text.as_str())),
                Err(e) => errors.push((i, error_message(&e))),
            }
        }
        Err(errors)
    }

    /// An engine with no template (a schema without expressions).
    #[must_use]
    pub(crate) fn empty() -> Self {
        Self { tera: new_tera() }
    }

    /// Render a compiled expression; `.strip()`ped like Rougail does.
    pub(crate) fn render(&self, expr: &Expr, context: &Context) -> Result<String, String> {
        self.tera
            .render(&expr.name, context)
            .map(|s| s.trim().to_owned())
            .map_err(|e| error_message(&e))
    }
}

/// A value as tera sees it.
#[must_use]
pub(crate) fn to_tera(value: &Value) -> tera::Value {
    match value {
        Value::Null => tera::Value::none(),
        Value::Bool(b) => tera::Value::from(*b),
        Value::Int(i) => tera::Value::from(*i),
        Value::Float(f) => tera::Value::from(*f),
        Value::Str(s) => tera::Value::from(s.as_str()),
        Value::List(items) => tera::Value::from(items.iter().map(to_tera).collect::<Vec<_>>()),
    }
}

/// The stand-in for a variable a calculation cannot read (`is propertyerror`).
#[must_use]
pub(crate) fn inaccessible(reason: &str) -> tera::Value {
    let mut map = tera::Map::new();
    map.insert(INACCESSIBLE.into(), tera::Value::from(reason));
    tera::Value::from(map)
}

/// Builds the nested context of one evaluation (`_.var` → `{"_": {"var": …}}`).
#[derive(Debug, Default)]
pub(crate) struct ContextBuilder {
    root: Vec<(String, Slot)>,
}

#[derive(Debug)]
enum Slot {
    Leaf(tera::Value),
    Map(Vec<(String, Self)>),
}

fn insert(level: &mut Vec<(String, Slot)>, path: &[String], value: tera::Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let pos = level.iter().position(|(k, _)| k == first);
    if rest.is_empty() {
        match pos {
            Some(p) => level[p].1 = Slot::Leaf(value),
            None => level.push((first.clone(), Slot::Leaf(value))),
        }
        return;
    }
    let p = if let Some(p) = pos {
        p
    } else {
        level.push((first.clone(), Slot::Map(Vec::new())));
        level.len() - 1
    };
    if let Slot::Leaf(_) = level[p].1 {
        level[p].1 = Slot::Map(Vec::new());
    }
    if let Slot::Map(children) = &mut level[p].1 {
        insert(children, rest, value);
    }
}

fn finish(slot: Slot) -> tera::Value {
    match slot {
        Slot::Leaf(v) => v,
        Slot::Map(children) => {
            let mut map = tera::Map::new();
            for (k, v) in children {
                map.insert(k.into(), finish(v));
            }
            tera::Value::from(map)
        }
    }
}

impl ContextBuilder {
    pub(crate) fn insert(&mut self, path: &[String], value: tera::Value) {
        insert(&mut self.root, path, value);
    }

    /// Insert only when nothing is there yet (a family placeholder).
    pub(crate) fn insert_missing(&mut self, path: &[String]) {
        let mut level = &self.root;
        for (i, seg) in path.iter().enumerate() {
            match level.iter().find(|(k, _)| k == seg) {
                Some((_, Slot::Map(children))) => level = children,
                Some((_, Slot::Leaf(_))) => return,
                None => {
                    let _ = i;
                    insert(&mut self.root, path, tera::Value::from(tera::Map::new()));
                    return;
                }
            }
        }
    }

    pub(crate) fn build(self) -> Context {
        let mut context = Context::new();
        for (k, v) in self.root {
            context.insert_value(k, finish(v));
        }
        context
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(src: &str, vars: &[(&[&str], tera::Value)]) -> Result<String, String> {
        let t = translate(src).map_err(|e| e.message)?;
        let engine = Engine::build(&[("t".to_owned(), t.text)])
            .map_err(|e| e.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join("; "))?;
        let expr = Expr {
            name: "t".to_owned(),
            source: src.to_owned(),
            chains: t.chains,
        };
        let mut ctx = ContextBuilder::default();
        for (path, value) in vars {
            let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
            ctx.insert(&path, value.clone());
        }
        engine.render(&expr, &ctx.build())
    }

    #[test]
    fn values_print_as_python_does() {
        let out = render(
            "{{ _.b }} {{ _.n }} {{ _.l }} {{ _.f }}",
            &[
                (&["_", "b"], tera::Value::from(true)),
                (&["_", "n"], tera::Value::none()),
                (
                    &["_", "l"],
                    tera::Value::from(vec![tera::Value::from("a"), tera::Value::from(1i64)]),
                ),
                (&["_", "f"], tera::Value::from(2.0f64)),
            ],
        );
        assert_eq!(out.unwrap(), "True None ['a', 1] 2.0");
    }

    #[test]
    fn propertyerror_test_detects_inaccessible_variables() {
        let out = render(
            "{% if _.x is propertyerror %}disabled{% endif %}",
            &[(&["_", "x"], inaccessible("`x` is disabled"))],
        );
        assert_eq!(out.unwrap(), "disabled");
        let out = render(
            "{{ _.x }}",
            &[(&["_", "x"], inaccessible("`x` is disabled"))],
        );
        assert!(out.unwrap_err().contains("`x` is disabled"));
    }

    #[test]
    fn an_inaccessible_variable_is_true_in_a_truth_test_only() {
        let vars: &[(&[&str], tera::Value)] = &[
            (&["_", "x"], inaccessible("`x` is disabled")),
            (&["_", "e"], tera::Value::from("")),
            (&["_", "s"], tera::Value::from("s")),
        ];
        for (src, want) in [
            ("{% if _.x %}y{% else %}n{% endif %}", "y"),
            ("{% if not _.x %}y{% else %}n{% endif %}", "n"),
            ("{% if _.x and _.e %}y{% else %}n{% endif %}", "n"),
            (
                "{% if _.e %}a{% elif _.e or (_.x or _.e) %}y{% endif %}",
                "y",
            ),
            ("{{ 'y' if _.x else 'n' }}", "y"),
            ("{{ _.x and _.s }} {{ not _.x }}", "s False"),
            ("{% set v = _.x %}{% if v %}y{% endif %}", "y"),
        ] {
            assert_eq!(render(src, vars).unwrap(), want, "{src}");
        }
        for src in [
            "{{ _.x }}",
            "{{ _.x or _.s }}",
            "{{ _.s and _.x }}",
            "{% if _.x == 'a' %}{% endif %}",
            "{% if (_.x or _.s) == 'a' %}{% endif %}",
            "{% if _.x | length %}{% endif %}",
            "{% if 'a' in _.x %}{% endif %}",
            "{{ _.x if _.s else 'n' }}",
            "{% set v = _.x %}{{ v }}",
        ] {
            let err = render(src, vars).unwrap_err();
            assert!(err.contains("`x` is disabled"), "{src}: {err}");
        }
        // an unknown name still fails in a truth test
        assert!(render("{% if nothing %}{% endif %}", &[]).is_err());
    }

    #[test]
    fn python_methods_work() {
        let out = render(
            "{% if _.u.startswith('https://') %}{{ _.u.upper() }}{% endif %}|{{ ','.join(_.l) }}|{{ 'a b'.split() }}",
            &[
                (&["_", "u"], tera::Value::from("https://x")),
                (
                    &["_", "l"],
                    tera::Value::from(vec![tera::Value::from("p"), tera::Value::from("q")]),
                ),
            ],
        );
        assert_eq!(out.unwrap(), "HTTPS://X|p,q|['a', 'b']");
    }

    #[test]
    fn loops_and_filters() {
        let out = render(
            "{% for v in _.l %}{{ loop.index }}={{ v | upper }}\n{% endfor %}{{ _.l | length }} {{ _.l | join(',') }}",
            &[(
                &["_", "l"],
                tera::Value::from(vec![tera::Value::from("p"), tera::Value::from("q")]),
            )],
        );
        assert_eq!(out.unwrap(), "1=P\n2=Q\n2 p,q");
    }

    #[test]
    fn join_prints_items_as_python_and_takes_any_iterable() {
        let row = |a: i64, b: &str| {
            let mut map = tera::Map::new();
            map.insert("a".into(), tera::Value::from(a));
            map.insert("b".into(), tera::Value::from(b));
            tera::Value::from(map)
        };
        let out = render(
            "{{ _.l | join(',') }}|{{ _.s | join('-') }}|{{ _.l | join }}|{{ _.l | join(d='+') }}|{{ _.m | join(',', attribute='b') }}",
            &[
                (
                    &["_", "l"],
                    tera::Value::from(vec![
                        tera::Value::from(true),
                        tera::Value::none(),
                        tera::Value::from(1.0f64),
                        tera::Value::from("a"),
                    ]),
                ),
                (&["_", "s"], tera::Value::from("abc")),
                (
                    &["_", "m"],
                    tera::Value::from(vec![row(1, "x"), row(2, "y")]),
                ),
            ],
        );
        assert_eq!(
            out.unwrap(),
            "True,None,1.0,a|a-b-c|TrueNone1.0a|True+None+1.0+a|x,y"
        );
        let err = render(
            "{{ _.m | join(',', attribute='c') }}",
            &[(&["_", "m"], tera::Value::from(vec![row(1, "x")]))],
        )
        .unwrap_err();
        assert!(err.contains("no attribute `c`"), "{err}");
        let err = render(
            "{{ _.n | join(',') }}",
            &[(&["_", "n"], tera::Value::none())],
        )
        .unwrap_err();
        assert!(err.contains("`join` expects a list"), "{err}");
    }

    #[test]
    fn unknown_names_fail_at_render() {
        let err = render("{{ nothing }}", &[]).unwrap_err();
        assert!(err.contains("undefined"), "{err}");
        let err = render("{% if nothing.x == 1 %}{% endif %}", &[]).unwrap_err();
        assert!(err.contains("nothing"), "{err}");
    }

    #[test]
    fn syntax_errors_are_reported_by_build() {
        let errors = Engine::build(&[
            ("ok".to_owned(), "{{ 1 }}".to_owned()),
            ("bad".to_owned(), "{% if %}".to_owned()),
        ])
        .unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, 1);
    }
}

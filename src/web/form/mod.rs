//! The configuration form: [`view`] is what the template shows, [`posted`] what
//! comes back. Building the view from the resolved configuration and turning a
//! posted form into values are here; validation is the core's.

pub mod build;
pub mod edit;
pub mod posted;
pub mod translations;
pub mod view;

use askama::Template;

use super::page::Chrome;
use view::{FormView, Item};

/// The configuration page.
#[derive(Template)]
#[template(path = "config.html")]
pub struct ConfigPage {
    pub c: Chrome,
    /// The version of the values the form was built from.
    pub version: String,
    pub active_tab: String,
    /// `(code, label)` of each mode.
    pub modes: Vec<(String, String)>,
    pub mode: String,
    /// The refusal of a save over a newer version.
    pub stale: Option<String>,
    pub form: FormView,
    pub summary_intro: String,
    /// "Saved" and the like.
    pub notice: Option<String>,
    /// The refusal of a save while another run holds the run lock.
    pub busy: Option<String>,
    /// The page shows values that are not saved.
    pub dirty: bool,
}

impl std::fmt::Debug for ConfigPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigPage")
            .field("tabs", &self.form.tabs.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::view::*;
    use super::*;
    use crate::web::i18n::Lang;

    fn field(path: &str, widget: Widget, values: &[&str], multi: bool) -> FieldView {
        let id = html_id("f", path);
        FieldView {
            path: path.to_owned(),
            id: id.clone(),
            label: format!("Label of {path}"),
            help: Some(inline_code("Some <help> with `code`")),
            required: true,
            readonly: false,
            multi,
            widget,
            slots: values
                .iter()
                .enumerate()
                .map(|(i, v)| Slot {
                    name: if multi {
                        posted::item_name(path, i)
                    } else {
                        posted::value_name(path)
                    },
                    id: if multi {
                        format!("{id}-{i}")
                    } else {
                        id.clone()
                    },
                    value: (*v).to_owned(),
                    index: i,
                    labelledby: if multi {
                        format!("{id}-label {id}-{i}-n")
                    } else {
                        String::new()
                    },
                })
                .collect(),
            secret_set: false,
            errors: Vec::new(),
            warnings: Vec::new(),
            examples: String::new(),
        }
    }

    fn page(items: Vec<Item>) -> String {
        let page = ConfigPage {
            c: Chrome::new(Lang::En).user("admin", "tok").nav("config"),
            version: "v1".to_owned(),
            active_tab: "general".to_owned(),
            modes: vec![("basic".into(), "basic".into())],
            mode: "basic".to_owned(),
            stale: None,
            form: FormView {
                tabs: vec![TabView {
                    name: "general".into(),
                    id: "tab-general".into(),
                    label: "General".into(),
                    help: None,
                    items,
                    error_count: 0,
                }],
                summary: Vec::new(),
            },
            summary_intro: String::new(),
            notice: None,
            busy: None,
            dirty: false,
        };
        page.render().unwrap()
    }

    #[test]
    fn a_text_field_is_labelled_and_escaped() {
        let mut f = field("general.name", Widget::text(), &["<b>x\"</b>"], false);
        f.errors.push(inline_code("bad & wrong"));
        let html = page(vec![Item::Field(f)]);
        assert!(
            html.contains(r#"<label for="f-general-name">Label of general.name"#),
            "{html}"
        );
        assert!(html.contains(r#"name="v:general.name""#), "{html}");
        assert!(
            html.contains("value=\"&#60;b&#62;x&#34;&#60;/b&#62;\""),
            "{html}"
        );
        assert!(
            html.contains("Some &lt;help&gt; with <code>code</code>"),
            "{html}"
        );
        assert!(html.contains("bad &amp; wrong"), "{html}");
        assert!(html.contains(r#"aria-invalid="true""#), "{html}");
        assert!(
            html.contains(r#"aria-describedby="f-general-name-help f-general-name-error""#),
            "{html}"
        );
    }

    #[test]
    fn a_secret_is_never_filled_back() {
        let mut f = field("general.password", Widget::Secret, &["s3cret"], false);
        f.secret_set = true;
        let html = page(vec![Item::Field(f)]);
        assert!(!html.contains("s3cret"), "{html}");
        assert!(html.contains(r#"type="password""#), "{html}");
    }

    #[test]
    fn a_multi_has_rows_with_remove_buttons_and_an_add_button() {
        let f = field("general.dns", Widget::text(), &["a", "b"], true);
        let html = page(vec![Item::Field(f)]);
        assert!(
            html.contains(r#"name="v:general.dns[0]" value="a""#),
            "{html}"
        );
        assert!(
            html.contains(r#"name="v:general.dns[1]" value="b""#),
            "{html}"
        );
        assert!(html.contains(r#"value="remove:general.dns:1""#), "{html}");
        assert!(html.contains(r#"value="add:general.dns""#), "{html}");
    }

    #[test]
    fn a_choice_is_a_select_with_its_value_selected() {
        let widget = Widget::Select {
            choices: vec![
                ("docker".into(), "docker".into()),
                ("lxc".into(), "lxc".into()),
            ],
            blank: false,
        };
        let html = page(vec![Item::Field(field(
            "c.technology",
            widget,
            &["lxc"],
            false,
        ))]);
        assert!(
            html.contains(r#"<option value="lxc" selected>lxc</option>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<option value="docker">docker</option>"#),
            "{html}"
        );
    }

    #[test]
    fn sections_nest_with_their_heading_level() {
        let html = page(vec![
            Item::Open(SectionView {
                id: "s-a".into(),
                title: "Family A".into(),
                help: None,
                level: 3,
                remove: Some(InstanceAction {
                    action: "remove-instance:c.names:a".into(),
                    label: "Remove a".into(),
                }),
            }),
            Item::Close,
        ]);
        assert!(
            html.contains(r#"<h3 id="s-a-title">Family A</h3>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"value="remove-instance:c.names:a""#),
            "{html}"
        );
    }
}

//! Template catalogue parser: any text given as a catalogue file (optionally
//! followed by a template of its own after a `---8<---` line) must give
//! entries or diagnostics, never a panic. A catalogue that loads is compiled
//! and rendered against the demonstration configuration, and every file it
//! renders must have a clean absolute target path (no `..`, nothing relative):
//! a catalogue cannot make brise write outside the paths it names.
#![no_main]

use std::path::{Component, Path};
use std::sync::OnceLock;

use brise::dictionary::{SourceFile, Sources, load};
use brise::render::template_set::TemplateFile;
use brise::render::{Renderer, TemplateSet};
use brise::values::{Config, RawValues, resolve};
use libfuzzer_sys::fuzz_target;

fn demo() -> &'static Config {
    static DEMO: OnceLock<Config> = OnceLock::new();
    DEMO.get_or_init(|| {
        let sources = Sources {
            namespace: None,
            files: vec![SourceFile::new(
                "00_containers.yml",
                include_str!("../../dictionaries/00_containers.yml"),
            )],
            extras: Vec::new(),
        };
        let schema = load(&sources).unwrap_or_else(|e| panic!("shipped dictionary: {e}"));
        let raw = RawValues::parse(
            include_str!("../../examples/demo/values.yml"),
            Path::new("values.yml"),
        )
        .unwrap_or_else(|e| panic!("demo values: {e}"));
        resolve(&schema, &raw)
    })
}

fn file(name: &str, text: &str) -> TemplateFile {
    TemplateFile {
        directory: 0,
        name: name.to_owned(),
        path: name.into(),
        text: text.to_owned(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (catalogue, template) = text.split_once("\n---8<---\n").unwrap_or((text, ""));
    let files = vec![
        file("catalogue.yml", catalogue),
        file("fuzz.tera", template),
        file(
            "nginx/conteneurs.conf.tera",
            include_str!("../../templates/nginx/conteneurs.conf.tera"),
        ),
    ];
    let Ok(set) = TemplateSet::from_files(files) else {
        return;
    };
    let Ok(renderer) = Renderer::new(&set) else {
        return;
    };
    let Ok(rendered) = renderer.render(demo()) else {
        return;
    };
    for file in &rendered.files {
        let clean = file.path.is_absolute()
            && file
                .path
                .components()
                .all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
        assert!(clean, "rendered to an unclean target path {:?}", file.path);
    }
});

//! Values file parser: any text given as `values.yml` must give values or a
//! diagnostic, never a panic. Values it accepts are resolved against the
//! shipped container dictionary and a school dictionary, rendered through the
//! shipped templates (what `gen_config` does in memory), and must survive the
//! round trip `brise set` relies on: what `to_yaml` writes parses again to
//! the same values.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use brise::dictionary::{Schema, SourceFile, Sources, load};
use brise::render::template_set::TemplateFile;
use brise::render::{Renderer, TemplateSet};
use brise::values::{RawValues, resolve};
use libfuzzer_sys::fuzz_target;

struct Fixed {
    schemas: Vec<Schema>,
    renderer: Renderer,
}

fn schema(files: &[(&str, &str)]) -> Schema {
    let sources = Sources {
        namespace: None,
        files: files
            .iter()
            .map(|(name, text)| SourceFile::new(*name, *text))
            .collect(),
        extras: Vec::new(),
    };
    load(&sources).unwrap_or_else(|e| panic!("fixture dictionary does not load: {e}"))
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| {
        let containers = schema(&[(
            "00_containers.yml",
            include_str!("../../dictionaries/00_containers.yml"),
        )]);
        let school = schema(&[
            (
                "00-base.yml",
                include_str!("../../tests/fixtures/dictionaries/valid/school/00-base.yml"),
            ),
            (
                "10-local.yml",
                include_str!("../../tests/fixtures/dictionaries/valid/school/10-local.yml"),
            ),
        ]);
        let set = TemplateSet::from_files(vec![
            TemplateFile {
                directory: 0,
                name: "containers.yml".to_owned(),
                path: "containers.yml".into(),
                text: include_str!("../../templates/containers.yml").to_owned(),
            },
            TemplateFile {
                directory: 0,
                name: "nginx/conteneurs.conf.tera".to_owned(),
                path: "nginx/conteneurs.conf.tera".into(),
                text: include_str!("../../templates/nginx/conteneurs.conf.tera").to_owned(),
            },
        ])
        .unwrap_or_else(|e| panic!("shipped templates do not load: {e}"));
        let renderer =
            Renderer::new(&set).unwrap_or_else(|e| panic!("shipped templates do not compile: {e}"));
        Fixed {
            schemas: vec![containers, school],
            renderer,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("values.yml");
    let Ok(raw) = RawValues::parse(text, path) else {
        return;
    };
    // What `brise set` writes must read back to the same values.
    let written = raw.to_yaml();
    let again = RawValues::parse(&written, path)
        .unwrap_or_else(|e| panic!("values written by brise do not parse again: {e}\n{written}"));
    assert_eq!(
        again.to_yaml(),
        written,
        "the values changed on a round trip"
    );
    let fixed = fixed();
    for (i, schema) in fixed.schemas.iter().enumerate() {
        let config = resolve(schema, &raw);
        let _ = config.flat_json(None, false);
        let _ = config.list_lines();
        if i == 0 && !config.errors().any(|_| true) {
            let _ = fixed.renderer.render(&config);
        }
    }
});

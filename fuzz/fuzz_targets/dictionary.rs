//! Dictionary loader: any text given as a dictionary file must give a schema
//! or diagnostics, never a panic; a schema it accepts must resolve (default
//! values, calculations) and print (`show --json`, `get --list`) without
//! panicking either.
#![no_main]

use brise::dictionary::{SourceFile, Sources, load};
use brise::values::{RawValues, resolve};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The loader reads files as UTF-8 (other bytes are refused before parsing).
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Two files when the input holds a separator line: redefinitions and
    // references across files.
    let files: Vec<SourceFile> = text
        .split("\n---8<---\n")
        .take(3)
        .enumerate()
        .map(|(i, part)| SourceFile::new(format!("{i:02}-fuzz.yml"), part))
        .collect();
    for namespace in [None, Some("rougail".to_owned())] {
        let sources = Sources {
            namespace,
            files: files.clone(),
            extras: Vec::new(),
        };
        let Ok(schema) = load(&sources) else {
            continue;
        };
        let config = resolve(&schema, &RawValues::default());
        let _ = config.flat_json(None, true);
        let _ = config.list_lines();
        let _ = config.tree();
        for entry in config.entries() {
            let _ = config.get(&entry.path);
        }
    }
});

//! Dictionary benchmark, in-process: load + resolve + flat JSON (what
//! `brise show --json` does, without process start-up) on generated dictionaries
//! of 100, 1,000 and 10,000 variables (`scripts/gen-dictionaries.py`: families of
//! 20, choices, multis, leaderships, 10% calculated or conditional).
//! The side-by-side comparison with Rougail is `scripts/bench-dictionaries.sh`;
//! results are in docs/PERFORMANCE.md.

// A benchmark program: setup failures should stop it loudly, and it runs the
// project's own generator (python3) once per size, before measuring.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::fs;
use std::path::Path;
use std::process::Command;

use brise::dictionary::{self, SourceFile, Sources};
use brise::values::{self, RawValues};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SIZES: [usize; 3] = [100, 1_000, 10_000];

/// Generate `variables` variables into `dir` and read them back, in load order.
fn generated_sources(variables: usize, dir: &Path) -> Sources {
    let generator = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gen-dictionaries.py");
    let status = Command::new("python3")
        .arg(&generator)
        .arg(variables.to_string())
        .arg(dir)
        .status()
        .expect("python3 runs scripts/gen-dictionaries.py");
    assert!(status.success(), "the dictionary generator failed");
    let mut paths: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    let files = paths
        .iter()
        .map(|path| SourceFile::new(path, fs::read_to_string(path).unwrap()))
        .collect();
    Sources {
        namespace: Some("rougail".to_owned()),
        files,
        extras: Vec::new(),
    }
}

fn load_resolve_json(sources: &Sources) -> String {
    let schema = dictionary::load(sources).unwrap();
    let config = values::resolve(&schema, &RawValues::default());
    config.flat_json(None, true)
}

fn dictionary(c: &mut Criterion) {
    let scratch = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("dictionary");
    group.sample_size(10);
    for variables in SIZES {
        let sources = generated_sources(variables, &scratch.path().join(variables.to_string()));
        // the work measured must succeed and produce the whole view
        assert!(load_resolve_json(&sources).len() > variables);
        group.throughput(Throughput::Elements(variables as u64));
        group.bench_with_input(
            BenchmarkId::new("load_resolve_json", variables),
            &sources,
            |b, sources| b.iter(|| load_resolve_json(sources)),
        );
    }
    group.finish();
}

criterion_group!(benches, dictionary);
criterion_main!(benches);

//! Conformance with Rougail 1.3.1: runs the real `brise` binary on every case of
//! `tests/conformance/cases/` and compares `show --json` byte for byte with the
//! `expected.json` that Rougail printed for it; every case of
//! `tests/conformance/invalid/` must be refused (exit 1 and a `path:line:column: error:`
//! diagnostic). `tests/conformance/known-failures.txt` is a ratchet: a listed case may
//! fail, an unlisted failure fails the test, and so does a listed case that now passes.
//! See docs/conformance.md.

// A test program: a broken corpus should panic loudly, it runs the brise binary itself
// (as every integration test does), and its only write is the optional ratchet rewrite.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;

const DIFF_LINES: usize = 12;

fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

/// One directory of the corpus, valid (with an expected output) or invalid.
#[derive(Debug)]
struct Case {
    name: String,
    dir: PathBuf,
    invalid: bool,
}

fn cases(kind: &str, invalid: bool) -> Vec<Case> {
    let root = conformance_dir().join(kind);
    let Ok(entries) = fs::read_dir(&root) else {
        return Vec::new();
    };
    let mut cases: Vec<Case> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .map(|dir| Case {
            name: dir.file_name().unwrap().to_string_lossy().into_owned(),
            dir,
            invalid,
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

/// The command line of one case, the same as scripts/rougail-diff.sh builds.
fn brise_args(case: &Case, no_values: &Path) -> Vec<String> {
    let mut args = vec!["show".to_owned(), "--json".to_owned()];
    for dir in ["dictionaries", "dictionaries2"] {
        let path = case.dir.join(dir);
        if path.is_dir() {
            args.push("--dictionaries".to_owned());
            args.push(path.display().to_string());
        }
    }
    let options = fs::read_to_string(case.dir.join("args")).unwrap_or_default();
    if !options.lines().any(|line| line.trim() == "--no-namespace") {
        args.push("--namespace".to_owned());
        args.push("rougail".to_owned());
    }
    if let Ok(entries) = fs::read_dir(case.dir.join("extra")) {
        let mut extras: Vec<PathBuf> = entries
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.is_dir())
            .collect();
        extras.sort();
        for extra in extras {
            let name = extra.file_name().unwrap().to_string_lossy().into_owned();
            args.push("--extra".to_owned());
            args.push(format!("{name}={}", extra.display()));
        }
    }
    let values = case.dir.join("values.yml");
    args.push("--values".to_owned());
    if values.is_file() {
        args.push(values.display().to_string());
    } else {
        args.push(no_values.display().to_string());
    }
    args
}

/// Why a case failed, in a few lines.
fn check(case: &Case, no_values: &Path, diagnostic: &Regex) -> Result<(), String> {
    let output = Command::new(env!("CARGO_BIN_EXE_brise"))
        .args(brise_args(case, no_values))
        .env_remove("BRISE_VALUES")
        .output()
        .map_err(|error| format!("cannot run brise: {error}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code();
    if case.invalid {
        if code == Some(1) && stderr.lines().any(|line| diagnostic.is_match(line)) {
            return Ok(());
        }
        let rougail = fs::read_to_string(case.dir.join("rougail-error.txt")).unwrap_or_default();
        return Err(format!(
            "Rougail refuses it ({}), brise exits {code:?}\n{}",
            rougail.trim(),
            first_lines(if stderr.is_empty() { &stdout } else { &stderr })
        ));
    }
    if code != Some(0) {
        return Err(format!("brise exits {code:?}\n{}", first_lines(&stderr)));
    }
    let expected = fs::read_to_string(case.dir.join("expected.json"))
        .map_err(|error| format!("no expected.json: {error}"))?;
    if stdout == expected {
        return Ok(());
    }
    let diff = similar::TextDiff::from_lines(expected.as_str(), stdout.as_ref());
    let unified = diff
        .unified_diff()
        .context_radius(1)
        .header("rougail", "brise")
        .to_string();
    Err(first_lines(&unified))
}

fn first_lines(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines().take(DIFF_LINES) {
        let _ = writeln!(out, "    {line}");
    }
    out
}

const KNOWN_FAILURES_HEADER: &str = "\
# Cases brise is allowed to fail for now: one name a line, an optional `# category`.
# The list may only shrink: tests/conformance.rs fails when a listed case passes.
# Regenerate (keeping categories) with CONFORMANCE_WRITE_KNOWN_FAILURES=1 cargo test --test conformance
";

/// The ratchet: case name -> the line it is on (with its comment).
fn known_failures() -> BTreeMap<String, String> {
    let text = fs::read_to_string(conformance_dir().join("known-failures.txt")).unwrap_or_default();
    text.lines()
        .map(|line| (line.split('#').next().unwrap_or("").trim(), line))
        .filter(|(name, _)| !name.is_empty())
        .map(|(name, line)| (name.to_owned(), line.trim().to_owned()))
        .collect()
}

/// Rewrite the ratchet with exactly the failing cases, keeping each kept line's comment.
fn write_known_failures(known: &BTreeMap<String, String>, failing: &[String]) {
    let mut text = KNOWN_FAILURES_HEADER.to_owned();
    let mut failing = failing.to_vec();
    failing.sort();
    for name in failing {
        let line = known.get(&name).cloned().unwrap_or(name);
        text.push_str(&line);
        text.push('\n');
    }
    fs::write(conformance_dir().join("known-failures.txt"), text).unwrap();
}

#[test]
fn brise_matches_rougail_on_every_conformance_case_except_known_failures() {
    let diagnostic = Regex::new(r"^\S+:\d+:\d+: error: ").unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let no_values = scratch.path().join("no-values.yml");
    let all: Vec<Case> = cases("cases", false)
        .into_iter()
        .chain(cases("invalid", true))
        .collect();
    assert!(!all.is_empty(), "no conformance case found");
    let names: BTreeSet<&str> = all.iter().map(|case| case.name.as_str()).collect();
    assert_eq!(names.len(), all.len(), "a case name is used twice");

    let known = known_failures();
    let mut report = String::new();
    let mut passed = 0;
    let mut unexpected = Vec::new();
    let mut now_passing = Vec::new();
    let mut failing = Vec::new();
    for case in &all {
        match check(case, &no_values, &diagnostic) {
            Ok(()) => {
                passed += 1;
                if known.contains_key(&case.name) {
                    now_passing.push(case.name.clone());
                }
            }
            Err(why) => {
                failing.push(case.name.clone());
                if !known.contains_key(&case.name) {
                    let _ = write!(report, "FAIL {}: {why}", case.name);
                    unexpected.push(case.name.clone());
                }
            }
        }
    }
    let unknown: Vec<&String> = known
        .keys()
        .filter(|name| !names.contains(name.as_str()))
        .collect();
    println!(
        "conformance: {passed} of {} cases match Rougail ({} valid, {} invalid); {} known failures",
        all.len(),
        all.iter().filter(|case| !case.invalid).count(),
        all.iter().filter(|case| case.invalid).count(),
        known.len()
    );
    print!("{report}");
    if std::env::var_os("CONFORMANCE_WRITE_KNOWN_FAILURES").is_some() {
        write_known_failures(&known, &failing);
        println!(
            "conformance: known-failures.txt rewritten ({} cases)",
            failing.len()
        );
        return;
    }
    assert!(
        unexpected.is_empty(),
        "{} cases fail that are not in known-failures.txt: {}",
        unexpected.len(),
        unexpected.join(" ")
    );
    assert!(
        now_passing.is_empty(),
        "these cases pass now: remove them from known-failures.txt: {}",
        now_passing.join(" ")
    );
    assert!(
        unknown.is_empty(),
        "known-failures.txt lists cases that do not exist: {unknown:?}"
    );
}

//! The bad-input catalogue (issue 9, item 5): hostile or broken inputs run
//! through the real `brise` binary against a test server root. Each case says
//! what it feeds, which command it runs, the exit code and the error text
//! (with its `file:line:column` where the input has one) it must print, and
//! every case checks that nothing changed: every file under the test
//! directory (values file, server root, state directory) keeps its bytes, its
//! mode and its owner. The cases where brise warns and fixes (a values file
//! readable by others, owned by another user) say exactly what changes.
//!
//! The table is `cases()`; `docs/RELIABILITY.md` ("Bad inputs") lists it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One file of a case, relative to the case's directory.
enum Content {
    Text(String),
    Bytes(Vec<u8>),
    /// A sparse file of this length (a huge file that costs no disk).
    Sparse(u64),
}

/// What the run must change (for the warn-and-fix cases).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fix {
    None,
    /// `values.yml` gets mode 0600, nothing else changes.
    ValuesMode,
    /// `values.yml` gets owner root and mode 0600.
    ValuesOwner,
}

struct Case {
    name: &'static str,
    /// Files written before the run (on top of the baseline).
    files: Vec<(&'static str, Content)>,
    /// Extra dictionary directory (`dict`) and local templates (`tpl`) are
    /// passed when the case writes into them.
    args: Vec<String>,
    /// Expected exit code.
    code: i32,
    /// Texts the standard error must contain (in order of appearance not required).
    stderr: Vec<String>,
    /// Texts neither output may contain (a secret, the content of a file).
    absent: Vec<&'static str>,
    fix: Fix,
    /// Set the values file's owner to this uid before the run (as root only).
    owner: Option<u32>,
    /// Mode of the values file before the run.
    values_mode: u32,
}

impl Case {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            files: Vec::new(),
            args: vec!["check".to_owned()],
            code: 1,
            stderr: Vec::new(),
            absent: Vec::new(),
            fix: Fix::None,
            owner: None,
            values_mode: 0o600,
        }
    }

    fn file(mut self, path: &'static str, text: impl Into<String>) -> Self {
        self.files.push((path, Content::Text(text.into())));
        self
    }

    fn bytes(mut self, path: &'static str, bytes: Vec<u8>) -> Self {
        self.files.push((path, Content::Bytes(bytes)));
        self
    }

    fn sparse(mut self, path: &'static str, len: u64) -> Self {
        self.files.push((path, Content::Sparse(len)));
        self
    }

    fn values(self, text: impl Into<String>) -> Self {
        self.file("values.yml", text)
    }

    fn run(mut self, args: &[&str]) -> Self {
        self.args = args.iter().map(|a| (*a).to_owned()).collect();
        self
    }

    fn code(mut self, code: i32) -> Self {
        self.code = code;
        self
    }

    fn error(mut self, text: impl Into<String>) -> Self {
        self.stderr.push(text.into());
        self
    }

    fn absent(mut self, text: &'static str) -> Self {
        self.absent.push(text);
        self
    }
}

/// The demonstration's values: the baseline every case starts from.
const DEMO: &str = include_str!("../examples/demo/values.yml");

/// A demo values file with one line replaced.
fn demo_with(from: &str, to: &str) -> String {
    assert!(DEMO.contains(from), "`{from}` is not in the demo values");
    DEMO.replacen(from, to, 1)
}

/// `n` levels of nested flow sequences.
fn nested(n: usize) -> String {
    format!("{}{}", "[".repeat(n), "]".repeat(n))
}

/// The billion laughs: ten aliases of ten aliases … (10^9 nodes if expanded).
fn alias_bomb(key_prefix: &str) -> String {
    let mut text =
        format!("{key_prefix}a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..9 {
        let previous = format!("*a{}", level - 1);
        let items = [previous.as_str(); 10].join(", ");
        text.push_str(&format!("{key_prefix}a{level}: &a{level} [{items}]\n"));
    }
    text
}

fn cases() -> Vec<Case> {
    let root_only_owner = nix::unistd::geteuid().is_root();
    let mut cases = vec![
        // ---- YAML bombs
        Case::new("alias bomb in the values file")
            .values(format!("containers:\n{}", alias_bomb("  ")))
            .error("values.yml:")
            .error("alias bomb"),
        Case::new("alias bomb in a dictionary")
            .file("dict/50_bomb.yml", format!("version: 1.1\n{}", alias_bomb("")))
            .error("dict/50_bomb.yml:")
            .error("alias bomb"),
        Case::new("alias bomb in a template catalogue")
            .file("tpl/bomb.yml", alias_bomb(""))
            .run(&["gen_config"])
            .error("tpl/bomb.yml:"),
        // ---- huge files
        Case::new("values file larger than 64 MiB")
            .sparse("values.yml", 64 * 1024 * 1024 + 1)
            .error("values.yml")
            .error("larger than 67108864 bytes"),
        Case::new("dictionary larger than 64 MiB")
            .sparse("dict/50_huge.yml", 64 * 1024 * 1024 + 1)
            .error("dict/50_huge.yml")
            .error("larger than 67108864 bytes"),
        Case::new("template larger than 64 MiB")
            .file(
                "tpl/huge.yml",
                "huge:\n  source: huge.tera\n  target: /etc/huge.conf\n",
            )
            .sparse("tpl/huge.tera", 64 * 1024 * 1024 + 1)
            .run(&["gen_config"])
            .error("tpl/huge.tera")
            .error("larger than 67108864 bytes"),
        // ---- deep nesting
        Case::new("values nested 100000 levels deep")
            .values(format!("containers: {}\n", nested(100_000)))
            .error("values.yml:1:")
            .error("nesting deeper than"),
        Case::new("dictionary nested 100000 levels deep")
            .file("dict/50_deep.yml", format!("version: 1.1\ndeep: {}\n", nested(100_000)))
            .error("dict/50_deep.yml:2:")
            .error("nesting deeper than"),
        Case::new("template catalogue nested 100000 levels deep")
            .file("tpl/deep.yml", format!("deep: {}\n", nested(100_000)))
            .run(&["gen_config"])
            .error("tpl/deep.yml:1:"),
        Case::new("template nesting blocks 5000 levels deep")
            .file(
                "tpl/deep.yml",
                "deep:\n  source: deep.tera\n  target: /etc/deep.conf\n",
            )
            .file(
                "tpl/deep.tera",
                format!(
                    "{}x{}",
                    "{% if true %}".repeat(5000),
                    "{% endif %}".repeat(5000)
                ),
            )
            .run(&["gen_config"])
            .error("tpl/deep.tera"),
        // ---- invalid UTF-8
        Case::new("values file not UTF-8")
            .bytes("values.yml", b"containers:\n  names: [\xff\xfe]\n".to_vec())
            .error("values.yml")
            .error("UTF-8"),
        Case::new("dictionary not UTF-8")
            .bytes("dict/50_latin1.yml", b"version: 1.1\nvar: caf\xe9\n".to_vec())
            .error("dict/50_latin1.yml")
            .error("UTF-8"),
        Case::new("template not UTF-8")
            .file(
                "tpl/latin1.yml",
                "latin1:\n  source: latin1.tera\n  target: /etc/latin1.conf\n",
            )
            .bytes("tpl/latin1.tera", b"caf\xe9\n".to_vec())
            .run(&["gen_config"])
            .error("tpl/latin1.tera")
            .error("UTF-8"),
        Case::new("NUL bytes in the values file")
            .values("containers:\n  names: [a\0b]\n")
            .error("values.yml:"),
        // ---- path traversal
        Case::new("template target escaping with ..")
            .file(
                "tpl/escape.yml",
                "escape:\n  source: escape.tera\n  target: /etc/nginx/../../etc/shadow\n",
            )
            .file("tpl/escape.tera", "owned\n")
            .run(&["gen_config"])
            .error("tpl/escape.yml:3:")
            .error("not a clean absolute file path"),
        Case::new("template target relative ../../etc/shadow")
            .file(
                "tpl/escape.yml",
                "escape:\n  source: escape.tera\n  target: ../../etc/shadow\n",
            )
            .file("tpl/escape.tera", "owned\n")
            .run(&["gen_config"])
            .error("tpl/escape.yml:3:11:")
            .error("target `../../etc/shadow` must be an absolute path"),
        Case::new("template target built from a value with ..")
            .file(
                "tpl/escape.yml",
                "escape:\n  source: escape.tera\n  for_each: containers.container_{{ identifier }}\n  target: /etc/brise/{{ this.command }}\n",
            )
            .file("tpl/escape.tera", "owned\n")
            .values(demo_with(
                "    repository: hello-world\n",
                "    repository: hello-world\n    command: ../../etc/shadow\n",
            ))
            .run(&["gen_config"])
            .error("not a clean absolute file path"),
        Case::new("shared host directory escaping with ..")
            .values(demo_with(
                "host_dir: /var/eole-httpd/",
                "host_dir: /var/eole-httpd/../../etc/shadow",
            ))
            .run(&["gen_config"])
            .error("`containers.container_my_apache_app.shared_dirs.host_dir` (row 1)")
            .error("contains `..`"),
        Case::new("shared container directory relative")
            .values(demo_with(
                "container_dir: /usr/local/apache2/htdocs/",
                "container_dir: ../../etc",
            ))
            .run(&["gen_config"])
            .error("values.yml:"),
        // ---- templates reading files or the environment
        Case::new("template including /etc/passwd")
            .file(
                "tpl/read.yml",
                "read:\n  source: read.tera\n  target: /etc/read.conf\n",
            )
            .file("tpl/read.tera", "{% include \"/etc/passwd\" %}\n")
            .run(&["gen_config"])
            .error("read.tera:1:12")
            .error("Unknown template `/etc/passwd`")
            .absent("root:x:0:0"),
        Case::new("template calling get_env")
            .file(
                "tpl/env.yml",
                "env:\n  source: env.tera\n  target: /etc/env.conf\n",
            )
            .file("tpl/env.tera", "{{ get_env(name=\"PATH\") }}\n")
            .run(&["gen_config"])
            .error("env.tera:1:4")
            .error("Unknown function `get_env`")
            .absent("/usr/bin"),
        Case::new("template calling read_file")
            .file(
                "tpl/read.yml",
                "read:\n  source: read.tera\n  target: /etc/read.conf\n",
            )
            .file("tpl/read.tera", "{{ read_file(path=\"/etc/passwd\") }}\n")
            .run(&["gen_config"])
            .error("read.tera:1:4")
            .error("Unknown function `read_file`")
            .absent("root:x:0:0"),
        Case::new("dictionary calculation calling get_env")
            .file(
                "dict/50_env.yml",
                "version: 1.1\nleak:\n  default:\n    type: jinja\n    jinja: '{{ get_env(name=\"PATH\") }}'\n",
            )
            .error("dict/50_env.yml:")
            .absent("/usr/bin"),
        Case::new("dictionary calculation including /etc/passwd")
            .file(
                "dict/50_read.yml",
                "version: 1.1\nleak:\n  default:\n    type: jinja\n    jinja: '{% include \"/etc/passwd\" %}'\n",
            )
            .error("dict/50_read.yml:")
            .absent("root:x:0:0"),
        // ---- shell metacharacters
        Case::new("repository with shell metacharacters")
            .values(demo_with("repository: httpd", "repository: \"httpd; touch /tmp/owned\""))
            .run(&["gen_config"])
            .error("values.yml:")
            .error("repository"),
        Case::new("tag with a command substitution")
            .values(demo_with("tag: \"2.4\"", "tag: \"$(id)\""))
            .run(&["gen_config"])
            .error("values.yml:")
            .error("tag"),
        Case::new("registry with a backquote")
            .values(demo_with(
                "    repository: httpd\n",
                "    repository: httpd\n    registry: \"`id`\"\n",
            ))
            .run(&["gen_config"])
            .error("values.yml:")
            .error("registry"),
        Case::new("set a repository with shell metacharacters")
            .values(DEMO)
            .run(&[
                "set",
                "containers.container_my_apache_app.repository",
                "httpd && rm -rf /",
            ])
            .error("repository"),
        // ---- ports
        Case::new("host port 70000")
            .values(demo_with("host_port: 8081", "host_port: 70000"))
            .run(&["gen_config"])
            .error("values.yml:")
            .error("host_port"),
        Case::new("host port 0")
            .values(demo_with("host_port: 8081", "host_port: 0"))
            .run(&["gen_config"])
            .error("values.yml:")
            .error("host_port"),
        Case::new("container port -1")
            .values(demo_with("container_port: 80", "container_port: -1"))
            .run(&["gen_config"])
            .error("values.yml:")
            .error("container_port"),
        Case::new("host port not a number")
            .values(demo_with("host_port: 8081", "host_port: eighty"))
            .run(&["gen_config"])
            .error("values.yml:")
            .error("host_port"),
        Case::new("set a port out of range")
            .values(DEMO)
            .run(&[
                "set",
                "containers.container_my_apache_app.ports.host_port",
                "65536",
            ])
            .error("host_port"),
        // ---- broken files
        Case::new("values file with a syntax error")
            .values("containers:\n  names: [a, b\n")
            .error("values.yml:"),
        Case::new("values file with a duplicate key")
            .values("containers:\n  names: [a]\n  names: [b]\n")
            .error("values.yml:3:"),
        // Rougail's rule: warned and ignored (the values file is not rewritten).
        Case::new("values file setting an unknown variable")
            .values("containers:\n  nmaes: [a]\n")
            .code(0)
            .error("values.yml:2:3: warning: `containers.nmaes`"),
        Case::new("template with a syntax error")
            .file(
                "tpl/broken.yml",
                "broken:\n  source: broken.tera\n  target: /etc/broken.conf\n",
            )
            .file("tpl/broken.tera", "line\n{{ unclosed\n")
            .run(&["gen_config"])
            .error("tpl/broken.tera:2:"),
        Case::new("template catalogue with an unknown field")
            .file(
                "tpl/unknown.yml",
                "unknown:\n  source: x.tera\n  target: /etc/x.conf\n  run: rm -rf /\n",
            )
            .file("tpl/x.tera", "x\n")
            .run(&["gen_config"])
            .error("tpl/unknown.yml:"),
        Case::new("dictionary regexp with catastrophic backtracking")
            .file(
                "dict/50_redos.yml",
                "version: 1.1\nredos:\n  type: regexp\n  regexp: \"^(a+)+$\"\n  default: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\n",
            )
            .error("dict/50_redos.yml:"),
    ];
    // ---- values file permissions: warned and fixed
    let mut readable = Case::new("world-readable values file")
        .values(DEMO)
        .code(0)
        .error("had mode 0644");
    readable.values_mode = 0o644;
    readable.fix = Fix::ValuesMode;
    cases.push(readable);
    let mut writable = Case::new("world-writable values file")
        .values(DEMO)
        .code(0)
        .error("had mode 0666");
    writable.values_mode = 0o666;
    writable.fix = Fix::ValuesMode;
    cases.push(writable);
    if root_only_owner {
        let mut owned = Case::new("values file owned by another user")
            .values(DEMO)
            .code(0)
            .error("was owned by uid 65534");
        owned.owner = Some(65534);
        owned.fix = Fix::ValuesOwner;
        cases.push(owned);
    }
    cases
}

/// Every file and directory under `dir`: relative path → (mode, uid, contents hash).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u32, u32, u64, Vec<u8>)> {
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, (u32, u32, u64, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let relative = path.strip_prefix(root).unwrap().to_owned();
        // Sparse giants are compared by length only.
        let contents = if meta.is_file() && meta.len() < 1024 * 1024 {
            std::fs::read(&path).unwrap()
        } else {
            Vec::new()
        };
        out.insert(relative, (meta.mode(), meta.uid(), meta.len(), contents));
        if meta.is_dir() {
            walk(root, &path, out);
        }
    }
}

fn write(path: &Path, content: &Content) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    match content {
        Content::Text(text) => std::fs::write(path, text).unwrap(),
        Content::Bytes(bytes) => std::fs::write(path, bytes).unwrap(),
        Content::Sparse(len) => {
            let file = std::fs::File::create(path).unwrap();
            file.set_len(*len).unwrap();
        }
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run one case; the problems found, empty when it behaved.
fn check(case: &Case) -> Vec<String> {
    let temp = tempfile::Builder::new()
        .prefix("brise-relsec-bad-")
        .tempdir()
        .unwrap();
    let dir = temp.path();
    // The baseline: a server that already has generated files and state.
    write(&dir.join("values.yml"), &Content::Text(DEMO.to_owned()));
    write(
        &dir.join("root/etc/nginx/web.d/conteneurs2.conf"),
        &Content::Text("location /previous { }\n".to_owned()),
    );
    write(
        &dir.join("state/manifest.json"),
        &Content::Text("{}\n".to_owned()),
    );
    // As on a server: the state directory is private.
    std::fs::set_permissions(dir.join("state"), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::create_dir_all(dir.join("dict")).unwrap();
    std::fs::create_dir_all(dir.join("tpl")).unwrap();
    for (path, content) in &case.files {
        write(&dir.join(path), content);
    }
    let values = dir.join("values.yml");
    std::fs::set_permissions(&values, std::fs::Permissions::from_mode(case.values_mode)).unwrap();
    if let Some(uid) = case.owner {
        std::os::unix::fs::chown(&values, Some(uid), Some(uid)).unwrap();
    }
    let before = snapshot(dir);

    let mut command = Command::new(env!("CARGO_BIN_EXE_brise"));
    command
        .current_dir(dir)
        .env_remove("BRISE_VALUES")
        .env("BRISE_STATE_DIR", dir.join("state"))
        .arg("--dictionaries")
        .arg(repo().join("dictionaries"))
        .arg("--dictionaries")
        .arg("dict")
        .arg("--templates")
        .arg(repo().join("templates"))
        .arg("--templates")
        .arg("tpl")
        .arg("--values")
        .arg("values.yml")
        .args(&case.args);
    if case.args.first().map(String::as_str) == Some("gen_config") {
        command
            .arg("--root")
            .arg(dir.join("root"))
            .arg("--nginx")
            .arg("/nonexistent/nginx");
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);

    let mut problems = Vec::new();
    if output.status.code() != Some(case.code) {
        problems.push(format!(
            "exit {:?}, expected {}",
            output.status.code(),
            case.code
        ));
    }
    for text in &case.stderr {
        if !stderr.contains(text.as_str()) {
            problems.push(format!("stderr lacks `{text}`"));
        }
    }
    for text in &case.absent {
        if stdout.contains(text) || stderr.contains(text) {
            problems.push(format!("output shows `{text}`"));
        }
    }
    if stderr.contains("panicked") {
        problems.push("the program panicked".to_owned());
    }
    let mut expected = before;
    if let Some(entry) = expected.get_mut(Path::new("values.yml")) {
        match case.fix {
            Fix::None => {}
            Fix::ValuesMode => entry.0 = (entry.0 & !0o7777) | 0o600,
            Fix::ValuesOwner => {
                entry.0 = (entry.0 & !0o7777) | 0o600;
                entry.1 = 0;
            }
        }
    }
    let mut after = snapshot(dir);
    // The run lock (`state/lock` for `set`; for `gen_config` the state
    // directory under `--root` and its `lock`) is taken before anything is
    // read: it is no change of the server's configuration.
    let lock = Path::new("root")
        .join(dir.join("state").strip_prefix("/").unwrap())
        .join("lock");
    after.retain(|path, _| {
        expected.contains_key(path) || !(lock.starts_with(path) || path == Path::new("state/lock"))
    });
    if after != expected {
        for (path, was) in &expected {
            match after.get(path) {
                None => problems.push(format!("`{}` was removed", path.display())),
                Some(now) if now != was => problems.push(format!(
                    "`{}` changed: mode {:o} uid {} len {} → mode {:o} uid {} len {}",
                    path.display(),
                    was.0,
                    was.1,
                    was.2,
                    now.0,
                    now.1,
                    now.2
                )),
                Some(_) => {}
            }
        }
        for path in after.keys().filter(|p| !expected.contains_key(*p)) {
            problems.push(format!("`{}` was created", path.display()));
        }
    }
    if !problems.is_empty() {
        problems.push(format!("stdout:\n{stdout}\nstderr:\n{stderr}"));
    }
    problems
}

#[test]
fn every_bad_input_is_refused_with_its_location_and_changes_nothing() {
    let cases = cases();
    let mut failures = Vec::new();
    for case in &cases {
        let problems = check(case);
        if !problems.is_empty() {
            failures.push(format!("== {}\n{}", case.name, problems.join("\n")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad inputs misbehaved:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_catalogue_has_every_kind_of_bad_input_the_issue_lists() {
    let names: Vec<&str> = cases().iter().map(|c| c.name).collect();
    for needle in [
        "alias bomb",
        "larger than",
        "levels deep",
        "not UTF-8",
        "escaping with ..",
        "shared host directory",
        "/etc/passwd",
        "get_env",
        "shell metacharacters",
        "port",
        "world-readable",
    ] {
        assert!(
            names.iter().any(|n| n.contains(needle)),
            "no case about {needle}"
        );
    }
}

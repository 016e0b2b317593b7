//! `output`: plan and apply rendered files under a test root — only changed
//! files written, mtimes kept, undeclared files removed, hand edits kept
//! aside, owner and mode applied, and the real `nginx -t` gate and reload.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use brise::output::{self, Action, ApplyOptions, Done, NginxError, NginxSettings, OutputError};
use brise::render::{Check, Rendered, RenderedFile};
use common::nginx::{self, Nginx};

const STATE: &str = "/var/lib/brise";

fn me() -> (String, String) {
    (
        nix::unistd::getuid().as_raw().to_string(),
        nix::unistd::getgid().as_raw().to_string(),
    )
}

fn file(path: &str, contents: &str) -> RenderedFile {
    let (owner, group) = me();
    RenderedFile {
        path: PathBuf::from(path),
        contents: contents.to_owned(),
        owner,
        group,
        mode: 0o644,
        check: None,
        reload: None,
        template: "test".to_owned(),
        instance: None,
    }
}

fn nginx_file(path: &str, contents: &str) -> RenderedFile {
    RenderedFile {
        check: Some(Check::Nginx),
        reload: Some("nginx".to_owned()),
        ..file(path, contents)
    }
}

fn options() -> ApplyOptions {
    ApplyOptions {
        nginx: NginxSettings {
            binary: nginx::binary_or_default(),
            conf: PathBuf::from("/etc/nginx/nginx.conf"),
        },
        reload: true,
        now: "2026-05-12T10:30:00Z".parse().unwrap(),
    }
}

fn run(root: &Path, files: Vec<RenderedFile>) -> Result<output::Report, OutputError> {
    let plan = output::plan(&Rendered { files }, root, Path::new(STATE))?;
    output::apply(&plan, &options())
}

fn read(root: &Path, path: &str) -> String {
    std::fs::read_to_string(output::under_root(root, Path::new(path))).unwrap()
}

#[test]
fn unchanged_files_are_left_untouched_and_keep_their_mtime() {
    let root = tempfile::tempdir().unwrap();
    run(
        root.path(),
        vec![file("/etc/a.conf", "a\n"), file("/etc/b.conf", "b\n")],
    )
    .unwrap();
    let a = root.path().join("etc/a.conf");
    let before = std::fs::metadata(&a).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let report = run(
        root.path(),
        vec![file("/etc/a.conf", "a\n"), file("/etc/b.conf", "b2\n")],
    )
    .unwrap();
    let after = std::fs::metadata(&a).unwrap();
    assert_eq!(before.modified().unwrap(), after.modified().unwrap());
    assert_eq!(before.ino(), after.ino());
    assert_eq!(
        report.done,
        vec![Done::Updated(PathBuf::from("/etc/b.conf"))]
    );
    assert_eq!(read(root.path(), "/etc/b.conf"), "b2\n");
    // A third identical run plans nothing and writes nothing (manifest included).
    let manifest = root.path().join("var/lib/brise/generated-files.json");
    let manifest_before = std::fs::metadata(&manifest).unwrap().modified().unwrap();
    let plan = output::plan(
        &Rendered {
            files: vec![file("/etc/a.conf", "a\n"), file("/etc/b.conf", "b2\n")],
        },
        root.path(),
        Path::new(STATE),
    )
    .unwrap();
    assert!(plan.is_empty() && !plan.manifest_changed);
    let report = output::apply(&plan, &options()).unwrap();
    assert_eq!(
        report.to_string(),
        "nothing to do: 2 generated files up to date\n"
    );
    assert_eq!(
        std::fs::metadata(&manifest).unwrap().modified().unwrap(),
        manifest_before
    );
}

#[test]
fn a_file_no_longer_declared_is_removed() {
    let root = tempfile::tempdir().unwrap();
    run(
        root.path(),
        vec![
            file("/etc/web.d/c1.conf", "1"),
            file("/etc/web.d/c2.conf", "2"),
        ],
    )
    .unwrap();
    let report = run(root.path(), vec![file("/etc/web.d/c1.conf", "1")]).unwrap();
    assert_eq!(
        report.done,
        vec![Done::Removed(PathBuf::from("/etc/web.d/c2.conf"))]
    );
    assert!(!root.path().join("etc/web.d/c2.conf").exists());
    assert!(root.path().join("etc/web.d/c1.conf").exists());
    let manifest = read(root.path(), "/var/lib/brise/generated-files.json");
    assert!(!manifest.contains("c2.conf"), "{manifest}");
}

#[test]
fn a_hand_edited_file_is_kept_aside_then_replaced() {
    let root = tempfile::tempdir().unwrap();
    run(root.path(), vec![file("/etc/web.d/c1.conf", "generated\n")]).unwrap();
    let live = root.path().join("etc/web.d/c1.conf");
    output::atomic::write(&live, b"edited by hand\n", None).unwrap();
    let plan = output::plan(
        &Rendered {
            files: vec![file("/etc/web.d/c1.conf", "generated again\n")],
        },
        root.path(),
        Path::new(STATE),
    )
    .unwrap();
    assert!(plan.changes[0].hand_edited);
    assert_eq!(
        plan.describe(),
        "keep aside /etc/web.d/c1.conf (edited by hand since brise wrote it)\nupdate /etc/web.d/c1.conf\n"
    );
    let report = output::apply(&plan, &options()).unwrap();
    assert_eq!(
        report.to_string(),
        "kept aside /etc/web.d/c1.conf as /etc/web.d/c1.conf.kept-20260512T103000Z (edited by hand since brise wrote it)\nupdated /etc/web.d/c1.conf\n"
    );
    assert_eq!(
        read(root.path(), "/etc/web.d/c1.conf.kept-20260512T103000Z"),
        "edited by hand\n"
    );
    assert_eq!(read(root.path(), "/etc/web.d/c1.conf"), "generated again\n");
}

#[test]
fn a_hand_edited_file_no_longer_declared_is_kept_aside_not_deleted() {
    let root = tempfile::tempdir().unwrap();
    run(root.path(), vec![file("/etc/c.conf", "generated\n")]).unwrap();
    output::atomic::write(&root.path().join("etc/c.conf"), b"mine\n", None).unwrap();
    let report = run(root.path(), vec![]).unwrap();
    assert_eq!(
        report.done,
        vec![
            Done::KeptAside(
                PathBuf::from("/etc/c.conf"),
                PathBuf::from("/etc/c.conf.kept-20260512T103000Z")
            ),
            Done::Removed(PathBuf::from("/etc/c.conf")),
        ]
    );
    assert_eq!(
        read(root.path(), "/etc/c.conf.kept-20260512T103000Z"),
        "mine\n"
    );
    assert!(!root.path().join("etc/c.conf").exists());
}

#[test]
fn a_file_brise_never_wrote_is_kept_aside_unless_identical() {
    let root = tempfile::tempdir().unwrap();
    output::atomic::write(&root.path().join("etc/same.conf"), b"same\n", None).unwrap();
    output::atomic::write(&root.path().join("etc/other.conf"), b"theirs\n", None).unwrap();
    let plan = output::plan(
        &Rendered {
            files: vec![
                file("/etc/other.conf", "ours\n"),
                file("/etc/same.conf", "same\n"),
            ],
        },
        root.path(),
        Path::new(STATE),
    )
    .unwrap();
    let actions: Vec<_> = plan
        .changes
        .iter()
        .map(|c| (c.action, c.hand_edited))
        .collect();
    assert_eq!(
        actions,
        vec![(Action::Update, true), (Action::Unchanged, false)]
    );
}

#[test]
fn mode_is_applied_and_a_mode_change_alone_does_not_rewrite() {
    let root = tempfile::tempdir().unwrap();
    let mut private = file("/etc/secret.conf", "s\n");
    private.mode = 0o600;
    run(root.path(), vec![private.clone()]).unwrap();
    let path = root.path().join("etc/secret.conf");
    let before = std::fs::metadata(&path).unwrap();
    assert_eq!(before.permissions().mode() & 0o7777, 0o600);
    private.mode = 0o640;
    let report = run(root.path(), vec![private]).unwrap();
    assert_eq!(
        report.done,
        vec![Done::Attributes(PathBuf::from("/etc/secret.conf"))]
    );
    let after = std::fs::metadata(&path).unwrap();
    assert_eq!(after.permissions().mode() & 0o7777, 0o640);
    assert_eq!(before.ino(), after.ino());
}

#[test]
#[ignore = "needs root"]
fn owner_and_group_are_applied() {
    assert!(nix::unistd::geteuid().is_root(), "this test needs root");
    let root = tempfile::tempdir().unwrap();
    let mut owned = file("/etc/owned.conf", "o\n");
    owned.owner = "www-data".to_owned();
    owned.group = "adm".to_owned();
    owned.mode = 0o640;
    run(root.path(), vec![owned.clone()]).unwrap();
    let metadata = std::fs::metadata(root.path().join("etc/owned.conf")).unwrap();
    let www = nix::unistd::User::from_name("www-data").unwrap().unwrap();
    let adm = nix::unistd::Group::from_name("adm").unwrap().unwrap();
    assert_eq!(
        (metadata.uid(), metadata.gid()),
        (www.uid.as_raw(), adm.gid.as_raw())
    );
    assert_eq!(metadata.permissions().mode() & 0o7777, 0o640);
    // Back to root: an owner change alone is fixed in place.
    owned.owner = "root".to_owned();
    owned.group = "root".to_owned();
    let report = run(root.path(), vec![owned]).unwrap();
    assert_eq!(
        report.done,
        vec![Done::Attributes(PathBuf::from("/etc/owned.conf"))]
    );
    let metadata = std::fs::metadata(root.path().join("etc/owned.conf")).unwrap();
    assert_eq!((metadata.uid(), metadata.gid()), (0, 0));
}

const GOOD: &str = "location /good {\n    return 200 \"good\\n\";\n}\n";

#[test]
#[ignore = "needs nginx"]
fn nginx_refusing_a_file_keeps_the_previous_one_and_says_why() {
    let root = tempfile::tempdir().unwrap();
    let _nginx = Nginx::configure(root.path());
    run(
        root.path(),
        vec![nginx_file("/etc/nginx/web.d/c1.conf", GOOD)],
    )
    .unwrap();
    let manifest = read(root.path(), "/var/lib/brise/generated-files.json");
    let error = run(
        root.path(),
        vec![
            nginx_file(
                "/etc/nginx/web.d/c1.conf",
                "location /good {\n    bogus_directive on;\n}\n",
            ),
            nginx_file(
                "/etc/nginx/web.d/c2.conf",
                GOOD.replace("good", "new").as_str(),
            ),
        ],
    )
    .unwrap_err();
    let live = root.path().join("etc/nginx/web.d/c1.conf");
    match &error {
        OutputError::Nginx(NginxError::Refused { message, file }) => {
            assert_eq!(file.as_deref(), Some(live.as_path()), "{message}");
            assert!(
                message.contains("unknown directive \"bogus_directive\""),
                "{message}"
            );
            assert!(
                message.contains(&format!("{}:2", live.display())),
                "{message}"
            );
        }
        other => panic!("expected nginx to refuse, got {other}"),
    }
    assert!(error.is_invalid_configuration());
    assert_eq!(read(root.path(), "/etc/nginx/web.d/c1.conf"), GOOD);
    assert!(
        !root.path().join("etc/nginx/web.d/c2.conf").exists(),
        "nothing written"
    );
    assert_eq!(
        read(root.path(), "/var/lib/brise/generated-files.json"),
        manifest
    );
}

#[test]
#[ignore = "needs nginx"]
fn nginx_check_sees_removed_files_gone() {
    // Two files declare the same location: valid only once the old one is removed.
    let root = tempfile::tempdir().unwrap();
    let _nginx = Nginx::configure(root.path());
    run(
        root.path(),
        vec![nginx_file("/etc/nginx/web.d/old.conf", GOOD)],
    )
    .unwrap();
    let report = run(
        root.path(),
        vec![nginx_file("/etc/nginx/web.d/new.conf", GOOD)],
    )
    .unwrap();
    assert!(
        report
            .done
            .contains(&Done::Removed(PathBuf::from("/etc/nginx/web.d/old.conf")))
    );
    // And the reverse: adding a duplicate location is refused.
    let error = run(
        root.path(),
        vec![
            nginx_file("/etc/nginx/web.d/new.conf", GOOD),
            nginx_file("/etc/nginx/web.d/dup.conf", GOOD),
        ],
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("duplicate location \"/good\""),
        "{error}"
    );
}

#[test]
#[ignore = "needs nginx"]
fn running_nginx_is_reloaded_once_only_when_its_files_change() {
    let root = tempfile::tempdir().unwrap();
    let mut nginx = Nginx::configure(root.path());
    nginx.start();
    let master = nginx.pid();
    let report = run(
        root.path(),
        vec![
            nginx_file("/etc/nginx/web.d/c1.conf", GOOD),
            nginx_file("/etc/nginx/web.d/c2.conf", &GOOD.replace("good", "second")),
            file("/etc/other.conf", "not nginx\n"),
        ],
    )
    .unwrap();
    let reloads = report
        .done
        .iter()
        .filter(|done| matches!(done, Done::Reloaded(_)))
        .count();
    assert_eq!(reloads, 1, "{report}");
    assert!(report.to_string().ends_with("reloaded nginx\n"), "{report}");
    wait_for(&nginx, "/second", "second\n");
    assert_eq!(nginx.pid(), master, "reloaded, not restarted");
    // Only a non-nginx file changes: no reload.
    let report = run(
        root.path(),
        vec![
            nginx_file("/etc/nginx/web.d/c1.conf", GOOD),
            nginx_file("/etc/nginx/web.d/c2.conf", &GOOD.replace("good", "second")),
            file("/etc/other.conf", "changed\n"),
        ],
    )
    .unwrap();
    assert_eq!(
        report.done,
        vec![Done::Updated(PathBuf::from("/etc/other.conf"))]
    );
    assert_eq!(nginx.reloads(), 1, "one reload in all, for the first run");
}

#[test]
#[ignore = "needs nginx"]
fn stopped_nginx_is_not_reloaded() {
    let root = tempfile::tempdir().unwrap();
    let _nginx = Nginx::configure(root.path());
    let report = run(
        root.path(),
        vec![nginx_file("/etc/nginx/web.d/c1.conf", GOOD)],
    )
    .unwrap();
    assert!(
        report
            .to_string()
            .ends_with("did not reload nginx: it is not running\n"),
        "{report}"
    );
}

#[test]
#[ignore = "needs nginx"]
fn without_an_nginx_tree_candidates_are_checked_alone() {
    let root = tempfile::tempdir().unwrap();
    assert!(
        run(
            root.path(),
            vec![nginx_file("/etc/nginx/web.d/c1.conf", GOOD)]
        )
        .is_ok()
    );
    let error = run(
        root.path(),
        vec![nginx_file(
            "/etc/nginx/web.d/c1.conf",
            "location /x { nonsense; }\n",
        )],
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("unknown directive \"nonsense\""),
        "{error}"
    );
    assert!(
        error.to_string().contains("/etc/nginx/web.d/c1.conf"),
        "names the live file: {error}"
    );
    assert_eq!(read(root.path(), "/etc/nginx/web.d/c1.conf"), GOOD);
}

fn wait_for(nginx: &Nginx, path: &str, body: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some((status, got)) = nginx.get(path) {
            if status.contains("200") && got == body {
                return;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nginx never served {path}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

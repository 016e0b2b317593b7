//! `brise passwd` and `brise serve` as programs: the users file they share.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test helper: the real binary with a piped stdin

use std::io::Write as _;
use std::process::{Command, Stdio};

fn brise(args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_brise"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A program refusing its arguments may exit before reading its input.
    if let Err(error) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
    }
    child.wait_with_output().unwrap()
}

#[test]
fn passwd_sets_a_password_read_from_stdin_then_deletes_the_user() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("web-users");
    let path = file.to_str().unwrap();
    let set = brise(&["passwd", "--users-file", path, "marie"], "s3cret\n");
    assert!(set.status.success(), "{set:?}");
    assert_eq!(
        String::from_utf8_lossy(&set.stderr),
        format!("brise: password of `marie` set in `{path}`\n")
    );
    let users = brise::web::users::load(&file).unwrap();
    assert!(users.verify("marie", "s3cret"));
    assert!(!users.verify("marie", "s3cret\n"));
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.contains("s3cret") && text.contains("marie:$argon2id$"),
        "{text}"
    );

    let deleted = brise(&["passwd", "--users-file", path, "--delete", "marie"], "");
    assert!(deleted.status.success(), "{deleted:?}");
    assert!(brise::web::users::load(&file).unwrap().is_empty());
}

#[test]
fn passwd_refuses_bad_input_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("web-users");
    let path = file.to_str().unwrap();
    for (args, stdin, message) in [
        (
            vec!["passwd", "--users-file", path, "Marie"],
            "pw\n",
            "invalid user name `Marie`",
        ),
        (
            vec!["passwd", "--users-file", path, "marie"],
            "\n",
            "the password is empty",
        ),
        (
            vec!["passwd", "--users-file", path, "--delete", "nobody"],
            "",
            "no user `nobody`",
        ),
    ] {
        let out = brise(&args, stdin);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{err}");
        assert!(!file.exists(), "{args:?} wrote the file");
    }
}

#[test]
fn serve_refuses_to_start_without_a_user() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("web-users");
    let out = brise(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--users-file",
            file.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no web user in"), "{err}");
    assert!(err.contains("brise passwd USER"), "{err}");
}

#[test]
fn serve_listens_on_the_loopback_address_by_default() {
    use clap::Parser as _;
    let parsed = brise::cli::Cli::try_parse_from(["brise", "serve"]).unwrap();
    let brise::cli::Command::Serve(args) = parsed.command else {
        unreachable!("`brise serve` parses as the serve command")
    };
    assert!(args.listen.ip().is_loopback(), "{}", args.listen);
    assert_eq!(args.listen.to_string(), "127.0.0.1:8470");
    let help = brise(&["serve", "--help"], "");
    assert!(help.status.success());
    let help = String::from_utf8_lossy(&help.stdout);
    let words = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("[default: 127.0.0.1:8470]"), "{help}");
}

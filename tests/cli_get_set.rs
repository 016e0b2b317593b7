//! `brise get` / `get --list` (EOLE's CreoleGet) and `brise set` / `set
//! --default` (CreoleSet): values are validated with the same functions as the
//! web form and written atomically with mode 0600; refused changes change nothing.

// The test copies values files between runs with plain writes.
#![allow(clippy::disallowed_methods)]

mod cli_support;

use std::os::unix::fs::PermissionsExt;

use cli_support::Brise;

const DICT: &str = "version: 1.1
general:
  server_name:
    type: domainname
    default: scribe.example.net
  port:
    type: port
    default: 80
  dns:
    type: ip
    multi: true
    default: [192.168.1.1]
  computed:
    hidden: true
    default: x
  fixed:
    frozen: true
    default: y
  proxy_mode:
    choices: [direct, manual]
    default: direct
  proxy:
    disabled:
      variable: _.proxy_mode
      when: direct
    address: proxy.example.net
  password:
    type: secret
    default: s3cr3t
lead:
  type: sequence
  ip:
    type: ip
    default: [10.0.0.1]
  mask:
    type: netmask
    default: 255.0.0.0
";

#[test]
fn get_prints_one_value_and_list_items_one_per_line() {
    Brise::new()
        .dictionary("00-base.yml", DICT)
        .args(["get", "general.server_name"])
        .run()
        .success()
        .stdout_is("scribe.example.net\n");
    Brise::new()
        .dictionary("00-base.yml", DICT)
        .values("general:\n  dns: [1.1.1.1, 9.9.9.9]\n")
        .args(["get", "general.dns"])
        .run()
        .success()
        .stdout_is("1.1.1.1\n9.9.9.9\n");
}

#[test]
fn get_list_prints_path_value_lines_with_secrets_masked() {
    Brise::new()
        .dictionary("00-base.yml", DICT)
        .args(["get", "--list"])
        .run()
        .success()
        .stdout_is(
            "general.server_name=scribe.example.net
general.port=80
general.dns=192.168.1.1
general.computed=x
general.fixed=y
general.proxy_mode=direct
general.password=s3cr3t
lead.ip=10.0.0.1
lead.mask=255.0.0.0
",
        );
    let run = Brise::new()
        .dictionary("00-base.yml", DICT)
        .values("general:\n  password: n3w-pa55word\n")
        .args(["get", "--list"])
        .run()
        .success();
    let out = run.stdout();
    assert!(out.contains("general.password=**********\n"), "{out}");
    assert!(!out.contains("n3w-pa55word"), "{out}");
}

#[test]
fn get_of_unknown_or_disabled_variables_says_why() {
    Brise::new()
        .dictionary("00-base.yml", DICT)
        .args(["get", "general.nothing"])
        .run()
        .code(1)
        .stderr_is("brise: unknown variable `general.nothing`\n");
    Brise::new()
        .dictionary("00-base.yml", DICT)
        .args(["get", "general.proxy.address"])
        .run()
        .code(1)
        .stderr_is("brise: `general.proxy.address` is disabled\n");
}

#[test]
fn set_writes_the_values_file_atomically_with_mode_0600() {
    let brise = Brise::new()
        .dictionary("00-base.yml", DICT)
        .args(["set", "general.port", "8080"]);
    brise.run().success();
    let text = std::fs::read_to_string(brise.values_path()).unwrap();
    assert!(text.contains("general:\n  port: \"8080\"\n"), "{text}");
    let mode = std::fs::metadata(brise.values_path())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(brise.temp())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn set_takes_several_values_for_a_multi_and_default_resets() {
    let brise = Brise::new().dictionary("00-base.yml", DICT);
    let set = |args: &[&str]| {
        let cmd = Brise::new()
            .dictionary("00-base.yml", DICT)
            .values(&std::fs::read_to_string(brise.values_path()).unwrap_or_default())
            .args(args);
        let run = cmd.run();
        let text = std::fs::read_to_string(cmd.values_path()).unwrap_or_default();
        std::fs::write(brise.values_path(), &text).unwrap();
        (run, text)
    };
    let (run, text) = set(&["set", "general.dns", "1.1.1.1", "9.9.9.9"]);
    run.success();
    assert!(
        text.contains("dns:\n    - \"1.1.1.1\"\n    - \"9.9.9.9\"\n"),
        "{text}"
    );
    let (run, text) = set(&["set", "general.dns", "--default"]);
    run.success();
    assert!(!text.contains("dns"), "{text}");
}

#[test]
fn set_of_a_leader_and_a_follower_keeps_rows() {
    let brise = Brise::new()
        .dictionary("00-base.yml", DICT)
        .args(["set", "lead.ip", "10.0.0.1", "10.0.0.2"]);
    brise.run().success();
    let values = std::fs::read_to_string(brise.values_path()).unwrap();
    let next = Brise::new()
        .dictionary("00-base.yml", DICT)
        .values(&values)
        .args(["set", "lead.mask", "255.0.0.0", "255.255.0.0"]);
    next.run().success();
    let values = std::fs::read_to_string(next.values_path()).unwrap();
    Brise::new()
        .dictionary("00-base.yml", DICT)
        .values(&values)
        .args(["get", "lead.mask"])
        .run()
        .success()
        .stdout_is("255.0.0.0\n255.255.0.0\n");
}

#[test]
fn set_refuses_hidden_frozen_and_disabled_variables_with_the_reason() {
    for (var, reason) in [
        (
            "general.computed",
            "error: `general.computed`: `general.computed` is hidden, its value is calculated and cannot be set\n",
        ),
        (
            "general.fixed",
            "error: `general.fixed`: `general.fixed` is frozen, it cannot be changed\n",
        ),
        (
            "general.proxy.address",
            "error: `general.proxy.address`: `general.proxy.address` is disabled, it cannot be set\n",
        ),
    ] {
        let brise = Brise::new()
            .dictionary("00-base.yml", DICT)
            .args(["set", var, "z"]);
        brise
            .run()
            .code(1)
            .stderr_is(&format!("{reason}brise: nothing was changed\n"));
        assert!(
            !brise.values_path().exists(),
            "the values file must not be written"
        );
    }
}

#[test]
fn set_refuses_invalid_values_and_leaves_the_file_untouched() {
    let brise = Brise::new()
        .dictionary("00-base.yml", DICT)
        .values("general:\n  port: \"8080\"\n")
        .args(["set", "general.port", "99999"]);
    brise
        .run()
        .code(1)
        .stderr_is("error: `general.port`: `99999` is an invalid port, must be between 1 and 65535, it is ignored\nbrise: nothing was changed\n");
    assert_eq!(
        std::fs::read_to_string(brise.values_path()).unwrap(),
        "general:\n  port: \"8080\"\n"
    );
    Brise::new()
        .dictionary("00-base.yml", DICT)
        .args(["set", "general.proxy_mode", "socks"])
        .run()
        .code(1)
        .stderr_contains("`socks` is not one of the choices `direct`, `manual`");
    Brise::new()
        .dictionary("00-base.yml", DICT)
        .args(["set", "general.nothing", "1"])
        .run()
        .code(1)
        .stderr_contains("unknown variable `general.nothing`");
}

//! `brise doc` (Markdown documentation of the dictionaries) and `brise
//! import-eol` (an EOLE config.eol merged into the values file).

// The tests write config.eol files with plain writes.
#![allow(clippy::disallowed_methods)]

mod cli_support;

use cli_support::Brise;

#[test]
fn doc_prints_markdown_with_conditions_in_words() {
    let run = Brise::new()
        .fixture("valid/school")
        .namespace("rougail")
        .args(["doc"])
        .run()
        .success();
    let md = run.stdout();
    assert!(md.starts_with("# Configuration variables\n"), "{md}");
    assert!(
        md.contains("### General settings (`rougail.general`)"),
        "{md}"
    );
    assert!(
        md.contains("disabled unless `rougail.general.proxy_mode` is `manual`"),
        "{md}"
    );
    assert!(
        md.contains("One family per identifier: the value of `rougail.services.names`."),
        "{md}"
    );
    assert!(md.contains("| `rougail.general.db_password` |"), "{md}");
    assert!(
        !md.contains("changeme"),
        "a secret default must not be printed\n{md}"
    );
}

#[test]
fn import_eol_merges_known_variables_and_reports_the_others() {
    let brise = Brise::new().dictionary(
        "00-base.yml",
        "version: 1.1\ngeneral:\n  nom_machine: x\n  port:\n    type: port\n    default: 80\n",
    );
    let eol = brise.temp().join("config.eol");
    std::fs::write(
        &eol,
        r#"{"nom_machine": {"val": "scribe", "owner": "gen_config"}, "port": {"val": "99999", "owner": "user"}, "gone": {"val": 1, "owner": "user"}, "___version___": "2.8.1"}"#,
    )
    .unwrap();
    let brise = brise.args(["import-eol", eol.to_str().unwrap()]);
    let run = brise.run().success();
    assert!(
        run.stdout().starts_with("imported 1 variable(s) from "),
        "{}",
        run.stdout()
    );
    let err = run.stderr();
    assert!(
        err.contains("warning: `gone`: no such variable in the dictionaries, not imported"),
        "{err}"
    );
    assert!(
        err.contains(
            "warning: `general.port`: `99999` is an invalid port, must be between 1 and 65535"
        ),
        "{err}"
    );
    let values = std::fs::read_to_string(brise.values_path()).unwrap();
    assert!(values.contains("nom_machine: \"scribe\""), "{values}");
    assert!(!values.contains("99999"), "{values}");
}

#[test]
fn import_eol_refuses_a_file_that_is_not_json() {
    let brise = Brise::new().dictionary("00-base.yml", "version: 1.1\nv: 1\n");
    let eol = brise.temp().join("config.eol");
    std::fs::write(&eol, "[section]\nval = 1\n").unwrap();
    let brise = brise.args(["import-eol", eol.to_str().unwrap()]);
    brise
        .run()
        .code(1)
        .stderr_contains("invalid config.eol JSON");
    assert!(!brise.values_path().exists());
}

//! `brise check`: every dictionary problem is reported as
//! `path:line:column: error: message` with the source line and a caret, all
//! at once, and nothing is changed; values problems carry the variable path.

mod cli_support;

use cli_support::Brise;

#[test]
fn unknown_variable_in_a_calculation_is_reported_with_its_position() {
    Brise::new()
        .fixture("invalid/unknown_variable")
        .args(["check"])
        .run()
        .code(1)
        .stderr_is(
            "tests/fixtures/dictionaries/invalid/unknown_variable/00-base.yml:5:5: error: variable `proxy_port` has an attribute `default` calculated with the unknown variable `_.no_such_variable`
  |
5 |     variable: _.no_such_variable
  |     ^
brise: 1 error(s) in the dictionaries, nothing was changed
",
        );
}

#[test]
fn a_cycle_between_calculations_is_reported() {
    Brise::new()
        .fixture("invalid/cycle")
        .args(["check"])
        .run()
        .code(1)
        .stderr_is(
            "tests/fixtures/dictionaries/invalid/cycle/00-base.yml:4:5: error: cycle between calculations: `first` → `second` → `first`
  |
4 |     variable: _.second
  |     ^
brise: 1 error(s) in the dictionaries, nothing was changed
",
        );
}

#[test]
fn defaults_of_the_wrong_type_are_reported_all_at_once() {
    Brise::new()
        .fixture("invalid/wrong_default_type")
        .args(["check"])
        .run()
        .code(1)
        .stderr_is(
            "tests/fixtures/dictionaries/invalid/wrong_default_type/00-base.yml:4:12: error: the default value `99999` of `http_port` is not a valid `port`: must be between 1 and 65535
  |
4 |   default: 99999
  |            ^
tests/fixtures/dictionaries/invalid/wrong_default_type/00-base.yml:7:12: error: the default value `many` of `workers` is not a valid `integer`: it's not an integer
  |
7 |   default: many
  |            ^
brise: 2 error(s) in the dictionaries, nothing was changed
",
        );
}

#[test]
fn a_duplicate_definition_without_redefine_is_refused() {
    Brise::new()
        .fixture("invalid/duplicate")
        .args(["check"])
        .run()
        .code(1)
        .stderr_is(
            "tests/fixtures/dictionaries/invalid/duplicate/10-again.yml:2:1: error: variable `server_name` is defined several times (add `redefine: true` to change it)
  |
2 | server_name: amon
  | ^
brise: 1 error(s) in the dictionaries, nothing was changed
",
        );
}

#[test]
fn malformed_yaml_is_reported_with_its_position() {
    Brise::new()
        .fixture("invalid/malformed")
        .args(["check"])
        .run()
        .code(1)
        .stderr_is(
            "tests/fixtures/dictionaries/invalid/malformed/00-base.yml:4:7: error: invalid YAML: illegal placement of ':' indicator
  |
4 |   port: 80
  |       ^
brise: 1 error(s) in the dictionaries, nothing was changed
",
        );
}

#[test]
fn every_problem_of_a_dictionary_is_reported_not_only_the_first() {
    Brise::new()
        .fixture("invalid/several")
        .args(["check"])
        .run()
        .code(1)
        .stderr_contains("00-base.yml:3:9: error: the type `nosuchtype` for `a` is unknown")
        .stderr_contains("00-base.yml:6:12: error: the default value `text` of `b` is not a valid `integer`")
        .stderr_contains("00-base.yml:9:5: error: variable `c` has an attribute `default` calculated with the unknown variable `_.missing`")
        .stderr_contains("brise: 3 error(s) in the dictionaries, nothing was changed");
}

#[test]
fn a_valid_configuration_checks_clean() {
    Brise::new()
        .fixture("valid/school")
        .namespace("rougail")
        .args(["check"])
        .run()
        .success()
        .stdout_is("ok: 14 variable(s), 0 warning(s)\n");
}

#[test]
fn a_mandatory_variable_without_value_is_an_error_for_check() {
    Brise::new()
        .dictionary("00-base.yml", "version: 1.1\nserver_name:\n  type: domainname\n")
        .args(["check"])
        .run()
        .code(1)
        .stderr_is("error: `server_name`: mandatory variable but has no value\nbrise: 1 error(s), 0 warning(s)\n");
}

#[test]
fn a_refused_value_is_reported_at_its_place_in_the_values_file() {
    Brise::new()
        .dictionary("00-base.yml", "version: 1.1\nfam:\n  port:\n    type: port\n    default: 80\n")
        .values("fam:\n  port: 70000\n")
        .args(["check"])
        .run()
        .code(1)
        .stderr_contains("values.yml:2:3: error: `fam.port`: `70000` is an invalid port, must be between 1 and 65535, it is ignored\n  |\n2 |   port: 70000\n  |   ^\n");
}

#[test]
fn a_values_file_that_is_not_yaml_is_refused_with_its_position() {
    let brise = Brise::new()
        .dictionary("00-base.yml", "version: 1.1\nv: 1\n")
        .values("v: [1, 2\n")
        .args(["check"]);
    let run = brise.run().code(1);
    assert!(run.stderr().contains("values.yml:"), "{}", run.stderr());
    assert!(
        run.stderr().contains("error: invalid YAML"),
        "{}",
        run.stderr()
    );
}

#[test]
fn values_for_unknown_variables_are_warnings() {
    Brise::new()
        .dictionary("00-base.yml", "version: 1.1\nv: 1\n")
        .values("w: 2\n")
        .args(["check"])
        .run()
        .success()
        .stderr_contains("warning: `w`: `w` in the values file is not a variable of the dictionaries, it is ignored");
}

#[test]
fn a_missing_explicit_dictionary_directory_is_an_error() {
    let run = Brise::new()
        .args(["--dictionaries", "/nonexistent/brise-core", "check"])
        .run()
        .code(1);
    assert!(
        run.stderr()
            .contains("`/nonexistent/brise-core` does not exist"),
        "{}",
        run.stderr()
    );
}

#[test]
fn a_refused_secret_is_never_printed() {
    let run = Brise::new()
        .dictionary(
            "00-base.yml",
            "version: 1.1\npassword:\n  type: secret\n  params:\n    min_len: 12\n",
        )
        .values("password: tooshort\n")
        .args(["check"])
        .run()
        .code(1);
    let err = run.stderr();
    assert!(err.contains("`password`: `**********` is an invalid secret, at least 12 characters are required, it is ignored"), "{err}");
    assert!(!err.contains("tooshort"), "{err}");
}

#[test]
fn an_expression_tera_refuses_is_reported_wherever_it_is_written() {
    // The two faulty expressions have one text: they share one compiled
    // template, and both places are still reported.
    Brise::new()
        .fixture("invalid/tera_syntax")
        .args(["check"])
        .run()
        .code(1)
        .stderr_is(
            "tests/fixtures/dictionaries/invalid/tera_syntax/00-base.yml:7:12: error: invalid jinja expression (after translation to tera): Found `%}` but expected one of: integer, float, string, bool, ident, `-`, `not`, `<`, `{`, `[` or `(`
  |
7 |     jinja: '{% if %}{{ _.name }}{% endif %}'
  |            ^
tests/fixtures/dictionaries/invalid/tera_syntax/00-base.yml:13:12: error: invalid jinja expression (after translation to tera): Found `%}` but expected one of: integer, float, string, bool, ident, `-`, `not`, `<`, `{`, `[` or `(`
   |
13 |     jinja: '{% if %}{{ _.name }}{% endif %}'
   |            ^
brise: 2 error(s) in the dictionaries, nothing was changed
",
        );
}

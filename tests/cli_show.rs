//! `brise show`: the flat JSON of spec part B byte for byte, the text view,
//! `--mode` filtering, and secrets masked unless `--show-secrets` as root.

mod cli_support;

use cli_support::Brise;

const SCHOOL_JSON: &str = r#"{
    "rougail.general.server_name": "scribe.example.net",
    "rougail.general.admin_mail": null,
    "rougail.general.proxy_mode": "direct",
    "rougail.general.db_password": "changeme",
    "rougail.general.advanced_tuning": 5,
    "rougail.general.timezone": "Europe/Paris",
    "rougail.services.names": [
        "web",
        "ldap"
    ],
    "rougail.services.service_web.enabled": true,
    "rougail.services.service_web.url": "https://scribe.example.net/web",
    "rougail.services.service_ldap.enabled": true,
    "rougail.services.service_ldap.url": "https://scribe.example.net/ldap",
    "rougail.services.ports.container_port": [
        {
            "rougail.services.ports.container_port": "80",
            "rougail.services.ports.host_port": "8080"
        },
        {
            "rougail.services.ports.container_port": "443",
            "rougail.services.ports.host_port": "8443"
        }
    ],
    "rougail.services.internal": "computed"
}
"#;

#[test]
fn show_json_prints_the_flat_view_byte_for_byte() {
    Brise::new()
        .fixture("valid/school")
        .namespace("rougail")
        .args(["show", "--json"])
        .run()
        .success()
        .stdout_is(SCHOOL_JSON)
        .stderr_is("");
}

#[test]
fn values_change_the_view_and_enable_families() {
    let run = Brise::new()
        .fixture("valid/school")
        .namespace("rougail")
        .values("rougail:\n  general:\n    proxy_mode: manual\n    proxy:\n      port: 8080\n  services:\n    names: [web]\n    ports:\n      - container_port: 22\n        host_port: 2222\n")
        .args(["show", "--json"])
        .run()
        .success();
    let out = run.stdout();
    assert!(out.contains("\"rougail.general.proxy.address\": \"proxy.example.net\",\n    \"rougail.general.proxy.port\": \"8080\","), "{out}");
    assert!(!out.contains("service_ldap"), "{out}");
    assert!(out.contains("\"rougail.services.ports.container_port\": \"22\",\n            \"rougail.services.ports.host_port\": \"2222\""), "{out}");
}

#[test]
fn show_mode_basic_hides_standard_and_advanced_variables() {
    let run = Brise::new()
        .dictionary("00-base.yml", "version: 1.1\nneeded:\n  type: string\nusual: 1\nexpert:\n  mode: advanced\n  default: 2\n")
        .args(["show", "--json", "--mode", "basic"])
        .run()
        .success();
    assert_eq!(run.stdout(), "{\n    \"needed\": null\n}\n");
    let run = Brise::new()
        .dictionary("00-base.yml", "version: 1.1\nneeded:\n  type: string\nusual: 1\nexpert:\n  mode: advanced\n  default: 2\n")
        .args(["show", "--json", "--mode", "standard"])
        .run()
        .success();
    assert_eq!(
        run.stdout(),
        "{\n    \"needed\": null,\n    \"usual\": 1\n}\n"
    );
}

#[test]
fn show_text_lists_every_value() {
    Brise::new()
        .dictionary("00-base.yml", "version: 1.1\nname: scribe\nlist: [a, b]\n")
        .args(["show"])
        .run()
        .success()
        .stdout_is("name: 'scribe'\nlist: ['a', 'b']\n");
}

#[test]
fn show_masks_secrets_set_by_the_administrator_or_calculated_but_not_static_defaults() {
    let dict = "version: 1.1
written:
  type: secret
  default: s3cr3t
token:
  type: secret
derived:
  type: secret
  default:
    variable: token
unset:
  type: secret
  mandatory: false
";
    Brise::new()
        .dictionary("00-base.yml", dict)
        .values("token: t0k3n-value\n")
        .args(["show", "--json"])
        .run()
        .success()
        .stdout_is(
            "{\n    \"written\": \"s3cr3t\",\n    \"token\": \"**********\",\n    \"derived\": \"**********\",\n    \"unset\": null\n}\n",
        );
    Brise::new()
        .dictionary("00-base.yml", dict)
        .values("token: t0k3n-value\n")
        .args(["get", "--list"])
        .run()
        .success()
        .stdout_is("written=s3cr3t\ntoken=**********\nderived=**********\nunset=\n");
}

#[test]
fn show_secrets_prints_them_in_clear_for_root_only() {
    let run = Brise::new()
        .dictionary(
            "00-base.yml",
            "version: 1.1\nsecret:\n  type: secret\n  default: s3cr3t\n",
        )
        .args(["show", "--json", "--show-secrets"])
        .run();
    if nix::unistd::geteuid().is_root() {
        run.success()
            .stdout_is("{\n    \"secret\": \"s3cr3t\"\n}\n");
    } else {
        run.code(1)
            .stderr_contains("`--show-secrets` is only allowed to root");
    }
}

#[test]
fn a_calculation_that_fails_makes_show_fail_without_output() {
    Brise::new()
        .dictionary(
            "00-base.yml",
            "version: 1.1\nv:\n  default:\n    jinja: '{{ undefined_name }}'\n",
        )
        .args(["show", "--json"])
        .run()
        .code(1)
        .stdout_is("")
        .stderr_contains("error: `v`: `undefined_name` is undefined");
}

#[test]
fn an_empty_configuration_is_an_empty_object() {
    Brise::new()
        .dictionary("00-base.yml", "version: 1.1\n")
        .args(["show", "--json"])
        .run()
        .success()
        .stdout_is("{}\n");
}

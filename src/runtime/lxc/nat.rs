//! Published ports of LXC containers as nftables DNAT rules, in brise's own
//! table (`table ip brise`, created when missing): host port on 127.0.0.1
//! (or the declared address, or every local address) → the container's
//! static address and port, plus a masquerade so replies to loopback clients
//! come back through the host. Every rule carries the comment
//! `brise-lxc:<container>`; brise only ever deletes rules of its table with
//! its comment, by handle, and replaces a container's rules in one atomic
//! `nft -f` transaction. Building rules and scripts is pure; [`apply`],
//! [`remove`] and [`rules_of`] run `nft` through `crate::command`.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use serde::Deserialize;
use thiserror::Error;

use crate::command::{self, CommandError, Invocation};
use crate::containers::{PortMapping, Protocol};

#[derive(Debug, Error)]
pub enum NatError {
    #[error("port {port}: LXC ports can only be published on IPv4 addresses, not `{address}`")]
    Ipv6 { port: u16, address: IpAddr },
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("cannot understand `nft --json` output: {0}")]
    Output(serde_json::Error),
    #[error("cannot write the nftables script: {0}")]
    Script(std::io::Error),
}

/// The comment marking a container's rules.
#[must_use]
pub fn comment(container: &str) -> String {
    format!("brise-lxc:{container}")
}

/// One rule of a container, in a chain of brise's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `prerouting`, `output` or `postrouting`.
    pub chain: &'static str,
    /// The rule's text after `add rule ip TABLE CHAIN`, comment included.
    pub text: String,
}

fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    }
}

/// The rules publishing `ports` of container `name` at `address` on `bridge`.
///
/// # Errors
/// A port published on an IPv6 address (the table is `ip`).
pub fn rules(
    bridge: &str,
    name: &str,
    address: Ipv4Addr,
    ports: &[PortMapping],
) -> Result<Vec<Rule>, NatError> {
    let comment = comment(name);
    let mut rules = Vec::new();
    for port in ports {
        let IpAddr::V4(host) = port.host_ip else {
            return Err(NatError::Ipv6 {
                port: port.host_port,
                address: port.host_ip,
            });
        };
        let proto = protocol_name(port.protocol);
        let target = format!(
            "{proto} dport {} dnat to {address}:{} comment \"{comment}\"",
            port.host_port, port.container_port
        );
        let (matcher, loopback_clients) = if host.is_unspecified() {
            ("fib daddr type local".to_owned(), true)
        } else {
            (format!("ip daddr {host}"), host.is_loopback())
        };
        if !host.is_loopback() {
            // From other machines (and containers).
            rules.push(Rule {
                chain: "prerouting",
                text: format!("{matcher} {target}"),
            });
        }
        // From this machine.
        rules.push(Rule {
            chain: "output",
            text: format!("{matcher} {target}"),
        });
        if loopback_clients {
            // A loopback source cannot leave the host: the container would
            // answer 127.0.0.1 to itself.
            rules.push(Rule {
                chain: "postrouting",
                text: format!(
                    "ip saddr 127.0.0.0/8 ip daddr {address} {proto} dport {} oifname \"{bridge}\" masquerade comment \"{comment}\"",
                    port.container_port
                ),
            });
        }
    }
    Ok(rules)
}

/// Whether DNAT of loopback addresses is needed (`route_localnet` on the bridge).
#[must_use]
pub fn needs_route_localnet(ports: &[PortMapping]) -> bool {
    ports.iter().any(|port| match port.host_ip {
        IpAddr::V4(host) => host.is_loopback() || host.is_unspecified(),
        IpAddr::V6(_) => false,
    })
}

/// The `nft -f` script that makes sure the table and its chains exist,
/// deletes the rules `stale` (chain, handle) and adds `rules`: one transaction.
#[must_use]
pub fn script(table: &str, stale: &[(String, u64)], rules: &[Rule]) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "add table ip {table}");
    for (chain, hook, priority) in [
        ("prerouting", "prerouting", "dstnat"),
        ("output", "output", "-100"),
        ("postrouting", "postrouting", "srcnat"),
    ] {
        let _ = writeln!(
            text,
            "add chain ip {table} {chain} {{ type nat hook {hook} priority {priority}; policy accept; }}"
        );
    }
    for (chain, handle) in stale {
        let _ = writeln!(text, "delete rule ip {table} {chain} handle {handle}");
    }
    for rule in rules {
        let _ = writeln!(text, "add rule ip {table} {} {}", rule.chain, rule.text);
    }
    text
}

#[derive(Debug, Deserialize)]
struct Listing {
    #[serde(default)]
    nftables: Vec<serde_json::Value>,
}

/// The (chain, handle) of the rules in `table` whose comment is exactly `comment`.
///
/// # Errors
/// The listing is not nft's JSON.
pub fn owned_handles(
    listing: &str,
    table: &str,
    comment: &str,
) -> Result<Vec<(String, u64)>, NatError> {
    let listing: Listing = serde_json::from_str(listing).map_err(NatError::Output)?;
    Ok(listing
        .nftables
        .iter()
        .filter_map(|entry| entry.get("rule"))
        .filter(|rule| {
            rule["family"] == "ip" && rule["table"] == table && rule["comment"] == comment
        })
        .filter_map(|rule| Some((rule["chain"].as_str()?.to_owned(), rule["handle"].as_u64()?)))
        .collect())
}

/// `nft --json list table ip TABLE`; `None` when the table does not exist.
fn list_table(table: &str) -> Result<Option<String>, NatError> {
    let invocation = Invocation::new("nft").args(["--json", "list", "table", "ip", table]);
    let output = command::output(&invocation)?;
    if output.status.success() {
        return Ok(Some(output.stdout));
    }
    if output.stderr.contains("No such file or directory") {
        return Ok(None);
    }
    Err(NatError::Command(CommandError::CommandFailed {
        invocation: Box::new(invocation),
        status: output.status,
        stdout: output.stdout,
        stderr: output.stderr,
    }))
}

fn run_script(script: &str) -> Result<(), NatError> {
    let mut file = tempfile::Builder::new()
        .prefix("brise-nft-")
        .suffix(".nft")
        .tempfile()
        .map_err(NatError::Script)?;
    std::io::Write::write_all(&mut file, script.as_bytes()).map_err(NatError::Script)?;
    command::run(&Invocation::new("nft").arg("-f").arg(file.path()))?;
    Ok(())
}

/// Make container `name`'s rules exactly `rules` (in one transaction).
///
/// # Errors
/// `nft` fails.
pub fn apply(table: &str, name: &str, rules: &[Rule]) -> Result<(), NatError> {
    let stale = match list_table(table)? {
        Some(listing) => owned_handles(&listing, table, &comment(name))?,
        None => Vec::new(),
    };
    if stale.is_empty() && rules.is_empty() {
        return Ok(());
    }
    run_script(&script(table, &stale, rules))
}

/// Delete container `name`'s rules (nothing when there are none).
///
/// # Errors
/// `nft` fails.
pub fn remove(table: &str, name: &str) -> Result<(), NatError> {
    apply(table, name, &[])
}

/// The (chain, handle) of container `name`'s rules.
///
/// # Errors
/// `nft` fails.
pub fn rules_of(table: &str, name: &str) -> Result<Vec<(String, u64)>, NatError> {
    match list_table(table)? {
        Some(listing) => owned_handles(&listing, table, &comment(name)),
        None => Ok(Vec::new()),
    }
}

/// Delete brise's whole table (tests' own tables only).
///
/// # Errors
/// `nft` fails for another reason than the table being absent.
pub fn delete_table(table: &str) -> Result<(), NatError> {
    if list_table(table)?.is_none() {
        return Ok(());
    }
    command::run(&Invocation::new("nft").args(["delete", "table", "ip", table]))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::fake::loopback_port;

    const ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 0, 213, 7);

    #[test]
    fn a_loopback_port_is_a_dnat_in_output_and_a_masquerade() {
        let rules = rules("brisebr0", "web", ADDRESS, &[loopback_port(80, 8081)]).unwrap();
        assert_eq!(
            rules,
            [
                Rule {
                    chain: "output",
                    text: "ip daddr 127.0.0.1 tcp dport 8081 dnat to 10.0.213.7:80 comment \"brise-lxc:web\"".to_owned(),
                },
                Rule {
                    chain: "postrouting",
                    text: "ip saddr 127.0.0.0/8 ip daddr 10.0.213.7 tcp dport 80 oifname \"brisebr0\" masquerade comment \"brise-lxc:web\"".to_owned(),
                },
            ]
        );
        assert!(needs_route_localnet(&[loopback_port(80, 8081)]));
    }

    #[test]
    fn a_port_on_every_address_is_also_reachable_from_outside() {
        let mut port = loopback_port(53, 5353);
        port.protocol = Protocol::Udp;
        port.host_ip = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let rules = rules("brisebr0", "dns", ADDRESS, &[port.clone()]).unwrap();
        let chains: Vec<&str> = rules.iter().map(|r| r.chain).collect();
        assert_eq!(chains, ["prerouting", "output", "postrouting"]);
        assert!(
            rules[0]
                .text
                .starts_with("fib daddr type local udp dport 5353 dnat to 10.0.213.7:53")
        );
        assert!(needs_route_localnet(&[port]));
    }

    #[test]
    fn a_port_on_a_declared_address_needs_no_masquerade() {
        let mut port = loopback_port(80, 8081);
        port.host_ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
        let rules = rules("brisebr0", "web", ADDRESS, &[port.clone()]).unwrap();
        let chains: Vec<&str> = rules.iter().map(|r| r.chain).collect();
        assert_eq!(chains, ["prerouting", "output"]);
        assert!(
            rules[1]
                .text
                .starts_with("ip daddr 192.0.2.2 tcp dport 8081")
        );
        assert!(!needs_route_localnet(&[port]));
    }

    #[test]
    fn an_ipv6_port_is_refused() {
        let mut port = loopback_port(80, 8081);
        port.host_ip = IpAddr::V6(std::net::Ipv6Addr::LOCALHOST);
        assert!(matches!(
            rules("brisebr0", "web", ADDRESS, &[port]),
            Err(NatError::Ipv6 { port: 8081, .. })
        ));
    }

    #[test]
    fn the_script_replaces_stale_rules_in_one_transaction() {
        let rules = rules("brisebr0", "web", ADDRESS, &[loopback_port(80, 8081)]).unwrap();
        let script = script("brise", &[("output".to_owned(), 12)], &rules);
        let lines: Vec<&str> = script.lines().collect();
        assert_eq!(lines[0], "add table ip brise");
        assert_eq!(
            lines[2],
            "add chain ip brise output { type nat hook output priority -100; policy accept; }"
        );
        assert_eq!(lines[4], "delete rule ip brise output handle 12");
        assert!(lines[5].starts_with("add rule ip brise output ip daddr 127.0.0.1"));
        assert_eq!(lines.len(), 7);
    }

    #[test]
    fn only_rules_with_our_exact_comment_in_our_table_are_ours() {
        let listing = r#"{"nftables": [
            {"metainfo": {"version": "1.0.6"}},
            {"table": {"family": "ip", "name": "brise", "handle": 3}},
            {"rule": {"family": "ip", "table": "brise", "chain": "output", "handle": 4, "comment": "brise-lxc:web"}},
            {"rule": {"family": "ip", "table": "brise", "chain": "postrouting", "handle": 5, "comment": "brise-lxc:web"}},
            {"rule": {"family": "ip", "table": "brise", "chain": "output", "handle": 6, "comment": "brise-lxc:web2"}},
            {"rule": {"family": "ip", "table": "brise", "chain": "output", "handle": 7}},
            {"rule": {"family": "ip", "table": "nat", "chain": "OUTPUT", "handle": 8, "comment": "brise-lxc:web"}}
        ]}"#;
        assert_eq!(
            owned_handles(listing, "brise", "brise-lxc:web").unwrap(),
            [("output".to_owned(), 4), ("postrouting".to_owned(), 5)]
        );
    }
}

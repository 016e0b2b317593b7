//! Variable types (Rougail 1.1 / Tiramisu options): names, `params`, value
//! validation (errors and warnings-only "second level" checks) and conversion
//! of text (command line, form, jinja output) to a typed [`Value`]. Pure.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::LazyLock;

use crate::dictionary::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VarType {
    String,
    Integer,
    Float,
    Boolean,
    Secret,
    Mail,
    UnixFilename,
    Date,
    UnixUser,
    Ip,
    Netmask,
    Network,
    Broadcast,
    Netbios,
    Domainname,
    Hostname,
    WebAddress,
    Port,
    Mac,
    UnixPermissions,
    Choice,
    Regexp,
}

/// Every variable type name Rougail accepts (deprecated aliases included).
pub const TYPE_NAMES: &[&str] = &[
    "string",
    "number",
    "integer",
    "float",
    "boolean",
    "secret",
    "mail",
    "unix_filename",
    "filename",
    "date",
    "unix_user",
    "ip",
    "cidr",
    "netmask",
    "network",
    "network_cidr",
    "broadcast",
    "netbios",
    "domainname",
    "hostname",
    "web_address",
    "port",
    "mac",
    "unix_permissions",
    "choice",
    "regexp",
];

impl VarType {
    /// The type of a type name, with the parameters it implies (`cidr` = ip + cidr).
    #[must_use]
    pub fn from_name(name: &str) -> Option<(Self, Vec<(&'static str, Value)>)> {
        let t = match name {
            "string" => Self::String,
            "number" | "integer" => Self::Integer,
            "float" => Self::Float,
            "boolean" => Self::Boolean,
            "secret" => Self::Secret,
            "mail" => Self::Mail,
            "unix_filename" | "filename" => Self::UnixFilename,
            "date" => Self::Date,
            "unix_user" => Self::UnixUser,
            "ip" => Self::Ip,
            "cidr" => return Some((Self::Ip, vec![("cidr", Value::Bool(true))])),
            "netmask" => Self::Netmask,
            "network" => Self::Network,
            "network_cidr" => return Some((Self::Network, vec![("cidr", Value::Bool(true))])),
            "broadcast" => Self::Broadcast,
            "netbios" => Self::Netbios,
            "domainname" => Self::Domainname,
            "hostname" => Self::Hostname,
            "web_address" => Self::WebAddress,
            "port" => Self::Port,
            "mac" => Self::Mac,
            "unix_permissions" => Self::UnixPermissions,
            "choice" => Self::Choice,
            "regexp" => Self::Regexp,
            _ => return None,
        };
        Some((t, Vec::new()))
    }

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Float => "float",
            Self::Boolean => "boolean",
            Self::Secret => "secret",
            Self::Mail => "mail",
            Self::UnixFilename => "unix_filename",
            Self::Date => "date",
            Self::UnixUser => "unix_user",
            Self::Ip => "ip",
            Self::Netmask => "netmask",
            Self::Network => "network",
            Self::Broadcast => "broadcast",
            Self::Netbios => "netbios",
            Self::Domainname => "domainname",
            Self::Hostname => "hostname",
            Self::WebAddress => "web_address",
            Self::Port => "port",
            Self::Mac => "mac",
            Self::UnixPermissions => "unix_permissions",
            Self::Choice => "choice",
            Self::Regexp => "regexp",
        }
    }

    /// The `params` keys this type accepts (`None` = the type takes no params,
    /// so any key is accepted and ignored, as Rougail does).
    #[must_use]
    pub fn param_names(self, type_name: &str) -> Option<&'static [&'static str]> {
        const DOMAIN: &[&str] = &[
            "type",
            "allow_startswith_dot",
            "allow_without_dot",
            "allow_ip",
            "allow_cidr_network",
            "test_existence",
            "multi_length",
            "multi_max_length",
            "multi_min_length",
        ];
        const PORT: &[&str] = &[
            "allow_range",
            "allow_protocol",
            "allow_zero",
            "allow_wellknown",
            "allow_registred",
            "allow_private",
            "multi_length",
            "multi_max_length",
            "multi_min_length",
        ];
        const WEB: &[&str] = &[
            "allow_range",
            "allow_protocol",
            "allow_zero",
            "allow_wellknown",
            "allow_registred",
            "allow_private",
            "type",
            "allow_startswith_dot",
            "allow_without_dot",
            "allow_ip",
            "allow_cidr_network",
            "test_existence",
            "multi_length",
            "multi_max_length",
            "multi_min_length",
        ];
        const IP: &[&str] = &[
            "cidr",
            "private_only",
            "allow_reserved",
            "multi_length",
            "multi_max_length",
            "multi_min_length",
        ];
        match self {
            Self::Integer if type_name == "number" => Some(&[
                "min_number",
                "max_number",
                "multi_length",
                "multi_max_length",
                "multi_min_length",
            ]),
            Self::Integer => Some(&[
                "min_integer",
                "max_integer",
                "multi_length",
                "multi_max_length",
                "multi_min_length",
            ]),
            Self::Secret => Some(&[
                "min_len",
                "max_len",
                "forbidden_char",
                "multi_length",
                "multi_max_length",
                "multi_min_length",
            ]),
            Self::UnixFilename => Some(&[
                "allow_relative",
                "test_existence",
                "types",
                "multi_length",
                "multi_max_length",
                "multi_min_length",
            ]),
            Self::Ip | Self::Network => Some(IP),
            Self::Netbios | Self::Domainname | Self::Hostname => Some(DOMAIN),
            Self::WebAddress => Some(WEB),
            Self::Port => Some(PORT),
            _ => None,
        }
    }

    /// Defaults Rougail passes for this type (its `initkwargs`).
    fn default_params(self) -> &'static [(&'static str, bool)] {
        match self {
            Self::Ip => &[("allow_reserved", true)],
            Self::Domainname | Self::Hostname => &[("allow_ip", false)],
            Self::WebAddress => &[("allow_ip", false), ("allow_without_dot", true)],
            Self::Port => &[("allow_private", true)],
            _ => &[],
        }
    }
}

/// Effective type parameters: the type's defaults overridden by `params:`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params(pub Vec<(String, Value)>);

impl Params {
    #[must_use]
    pub fn for_type(
        ty: VarType,
        implied: Vec<(&'static str, Value)>,
        user: Vec<(String, Value)>,
    ) -> Self {
        let mut out: Vec<(String, Value)> = ty
            .default_params()
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::Bool(*v)))
            .collect();
        for (k, v) in implied
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .chain(user)
        {
            if let Some(slot) = out.iter_mut().find(|(name, _)| *name == k) {
                slot.1 = v;
            } else {
                out.push((k, v));
            }
        }
        Self(out)
    }

    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    fn flag(&self, name: &str, default: bool) -> bool {
        match self.get(name) {
            Some(Value::Bool(b)) => *b,
            _ => default,
        }
    }

    fn int(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            Some(Value::Int(i)) => Some(*i),
            Some(Value::Bool(b)) => Some(i64::from(*b)),
            _ => None,
        }
    }

    /// Parameters the user wrote that only documentation shows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The outcome of checking one value against its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Valid,
    /// Refused, with the reason.
    Invalid(String),
    /// Accepted with a warning (Tiramisu "warnings only" checks).
    Warning(String),
}

/// Check a non-null scalar against a type and its params.
#[must_use]
pub fn check(ty: VarType, params: &Params, value: &Value) -> Check {
    match check_inner(ty, params, value) {
        Ok(None) => Check::Valid,
        Ok(Some(w)) => Check::Warning(w),
        Err(e) => Check::Invalid(e),
    }
}

type CheckResult = Result<Option<String>, String>;

fn expect_str(value: &Value) -> Result<&str, String> {
    value.as_str().ok_or_else(|| "it's not a string".to_owned())
}

fn check_inner(ty: VarType, params: &Params, value: &Value) -> CheckResult {
    match ty {
        VarType::String | VarType::Choice => {
            if ty == VarType::String {
                expect_str(value)?;
            }
            Ok(None)
        }
        VarType::Regexp => {
            expect_str(value)?;
            Ok(None)
        }
        VarType::Integer => {
            let i = match value {
                Value::Int(i) => *i,
                Value::Bool(b) => i64::from(*b),
                _ => return Err("it's not an integer".to_owned()),
            };
            if let Some(min) = params
                .int("min_integer")
                .or_else(|| params.int("min_number"))
            {
                if i < min {
                    return Err(format!("value must be equal or greater than \"{min}\""));
                }
            }
            if let Some(max) = params
                .int("max_integer")
                .or_else(|| params.int("max_number"))
            {
                if i > max {
                    return Err(format!("value must be less than \"{max}\""));
                }
            }
            Ok(None)
        }
        VarType::Float => match value {
            Value::Float(_) => Ok(None),
            _ => Err("it's not a float".to_owned()),
        },
        VarType::Boolean => match value {
            Value::Bool(_) => Ok(None),
            _ => Err("it's not a boolean".to_owned()),
        },
        VarType::Secret => {
            let s = expect_str(value)?;
            let len = s.chars().count();
            if let Some(min) = params.int("min_len") {
                if min > 0 && (len as i64) < min {
                    return Err(format!("at least {min} characters are required"));
                }
            }
            if let Some(max) = params.int("max_len") {
                if max > 0 && (len as i64) > max {
                    return Err(format!("maximum {max} characters required"));
                }
            }
            if let Some(Value::List(chars)) = params.get("forbidden_char") {
                let mut found: Vec<String> = chars
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|c| !c.is_empty() && s.contains(*c))
                    .map(|c| format!("\"{c}\""))
                    .collect();
                found.sort();
                if !found.is_empty() {
                    return Err(format!("must not have the characters {}", found.join(", ")));
                }
            }
            Ok(None)
        }
        VarType::Mail => {
            let s = expect_str(value)?;
            if MAIL.is_match(s) {
                Ok(None)
            } else {
                Err("invalid email address".to_owned())
            }
        }
        VarType::UnixFilename => {
            let s = expect_str(value)?;
            if !params.flag("allow_relative", false) && !s.starts_with('/') {
                return Err("must starts with \"/\"".to_owned());
            }
            Ok(None)
        }
        VarType::Date => {
            let s = expect_str(value)?;
            if valid_date(s) {
                Ok(None)
            } else {
                Err("invalid date, must be YYYY-MM-DD".to_owned())
            }
        }
        VarType::UnixUser => {
            let s = expect_str(value)?;
            if UNIX_USER.is_match(s) {
                Ok(None)
            } else {
                Err("invalid unix user name".to_owned())
            }
        }
        VarType::Ip => check_ip(expect_str(value)?, params),
        VarType::Netmask => {
            let s = expect_str(value)?;
            check_netmask(s).map(|()| None)
        }
        VarType::Network => check_network(expect_str(value)?, params),
        VarType::Broadcast => {
            let s = expect_str(value)?;
            s.parse::<IpAddr>()
                .map(|_| None)
                .map_err(|_| "invalid broadcast address".to_owned())
        }
        VarType::Domainname => check_domain(expect_str(value)?, params, DomainKind::Domainname),
        VarType::Hostname => check_domain(expect_str(value)?, params, DomainKind::Hostname),
        VarType::Netbios => check_domain(expect_str(value)?, params, DomainKind::Netbios),
        VarType::WebAddress => check_web(expect_str(value)?, params),
        VarType::Port => {
            let s = match value {
                Value::Str(s) => s.clone(),
                Value::Int(i) => i.to_string(),
                _ => return Err("it's not a port".to_owned()),
            };
            check_port(&s, params)
        }
        VarType::Mac => {
            let s = expect_str(value)?;
            if MAC.is_match(s) {
                Ok(None)
            } else {
                Err("invalid MAC address".to_owned())
            }
        }
        VarType::UnixPermissions => {
            let digits = match value {
                Value::Int(i) => i.to_string(),
                Value::Bool(b) => i64::from(*b).to_string(),
                _ => return Err("it's not an integer".to_owned()),
            };
            if !PERMISSIONS.is_match(&digits) {
                return Err("only 3 or 4 octal digits are allowed".to_owned());
            }
            Ok(permissions_warning(&digits))
        }
    }
}

fn re(pattern: &str) -> regex::Regex {
    // The patterns are constants checked by the unit tests below.
    #[allow(clippy::unwrap_used)]
    regex::Regex::new(pattern).unwrap()
}

static MAIL: LazyLock<regex::Regex> =
    LazyLock::new(|| re(r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*$"));
static UNIX_USER: LazyLock<regex::Regex> =
    LazyLock::new(|| re(r"^[a-z_][a-z0-9_-]{0,30}[$a-z0-9_-]{0,1}$"));
static MAC: LazyLock<regex::Regex> =
    LazyLock::new(|| re(r"^([0-9A-Fa-f]{2}[:]){5}([0-9A-Fa-f]{2})$"));
static PERMISSIONS: LazyLock<regex::Regex> = LazyLock::new(|| re(r"^[0-7]{3,4}$"));
static DOMAIN_LABEL: LazyLock<regex::Regex> = LazyLock::new(|| re(r"^[a-z0-9-]+$"));
static PATH_RE: LazyLock<regex::Regex> =
    LazyLock::new(|| re(r"^[A-Za-z0-9\-\._~:/\?#\[\]@!%\$&'\(\)\*\+,;=]+$"));

fn permissions_warning(digits: &str) -> Option<String> {
    let digits = if digits.len() == 4 {
        &digits[1..]
    } else {
        digits
    };
    let mut old = 7u32;
    for (idx, c) in digits.chars().enumerate() {
        let new = c.to_digit(8).unwrap_or(0);
        if old < new {
            let (n, o) = if idx == 1 {
                ("group", "user")
            } else {
                ("other", "group")
            };
            return Some(format!("{n} has more right than {o}"));
        }
        old = new;
    }
    if digits == "777" {
        return Some("too weak".to_owned());
    }
    None
}

fn valid_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    if y.len() != 4 || m.is_empty() || m.len() > 2 || d.is_empty() || d.len() > 2 {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return false;
    };
    if !(1..=12).contains(&m) || d == 0 {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    d <= days
}

/// A parsed `a.b.c.d[/n]` (IPv4 or IPv6).
fn parse_interface(s: &str) -> Option<(IpAddr, Option<u8>)> {
    match s.split_once('/') {
        Some((ip, prefix)) => {
            let ip: IpAddr = ip.parse().ok()?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let prefix: u8 = if prefix.chars().all(|c| c.is_ascii_digit()) {
                prefix.parse().ok()?
            } else if let (IpAddr::V4(_), Ok(mask)) = (ip, prefix.parse::<Ipv4Addr>()) {
                netmask_prefix(mask)?
            } else {
                return None;
            };
            (prefix <= max).then_some((ip, Some(prefix)))
        }
        None => Some((s.parse().ok()?, None)),
    }
}

fn netmask_prefix(mask: Ipv4Addr) -> Option<u8> {
    let bits = u32::from(mask);
    let ones = bits.leading_ones();
    (bits.checked_shl(ones).unwrap_or(0) == 0).then(|| u8::try_from(ones).unwrap_or(32))
}

fn network_of(ip: IpAddr, prefix: u8) -> (IpAddr, IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            (
                IpAddr::V4(Ipv4Addr::from(bits & mask)),
                IpAddr::V4(Ipv4Addr::from(bits | !mask)),
            )
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            (
                IpAddr::V6((bits & mask).into()),
                IpAddr::V6((bits | !mask).into()),
            )
        }
    }
}

fn ip_is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || o[0] == 0
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 192 && o[1] == 0 && o[2] == 2)
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || (o[0] == 198 && o[1] == 51 && o[2] == 100)
                || (o[0] == 203 && o[1] == 0 && o[2] == 113)
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.is_unspecified() || (v6.segments()[0] & 0xfe00) == 0xfc00
        }
    }
}

fn ip_is_reserved(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.octets()[0] >= 240,
        IpAddr::V6(v6) => {
            let s = v6.segments()[0];
            // Python's reserved IPv6 ranges (::/8, 100::/8, 200::/7, 400::/6, …).
            (s & 0xff00) == 0x0000 && !v6.is_loopback() && !v6.is_unspecified()
                || (s & 0xfe00) == 0x0200
                || (s & 0xfc00) == 0x0400
                || (s & 0xf800) == 0x0800
                || (s & 0xf000) == 0x1000
                || (s & 0xc000) == 0x4000
                || (s & 0xe000) == 0x8000
                || (s & 0xe000) == 0xa000
                || (s & 0xe000) == 0xc000
                || (s & 0xf000) == 0xe000
                || (s & 0xf800) == 0xf000
                || (s & 0xfc00) == 0xf800
                || (s & 0xff80) == 0xfe00
        }
    }
}

fn check_ip(s: &str, params: &Params) -> CheckResult {
    let cidr = params.flag("cidr", false);
    let ip = if cidr {
        if !s.contains('/') {
            return Err("CIDR address must have a \"/\"".to_owned());
        }
        let (ip, prefix) = parse_interface(s).ok_or_else(|| "invalid IP".to_owned())?;
        let (network, broadcast) = network_of(ip, prefix.unwrap_or(32));
        if ip == network {
            return Err("it's in fact a network address".to_owned());
        }
        if ip == broadcast {
            return Err("it's in fact a broacast address".to_owned());
        }
        ip
    } else {
        s.parse::<IpAddr>().map_err(|_| "invalid IP".to_owned())?
    };
    if !params.flag("allow_reserved", false) && ip_is_reserved(ip) {
        return Err("mustn't be reserved IP".to_owned());
    }
    if params.flag("private_only", false) && !ip_is_private(ip) {
        return Err("must be private IP".to_owned());
    }
    Ok(None)
}

fn check_netmask(s: &str) -> Result<(), String> {
    let mask: Ipv4Addr = s
        .parse()
        .map_err(|_| "invalid netmask address".to_owned())?;
    netmask_prefix(mask)
        .map(|_| ())
        .ok_or_else(|| "invalid netmask address".to_owned())
}

fn check_network(s: &str, params: &Params) -> CheckResult {
    let cidr = params.flag("cidr", false);
    let (ip, prefix) = if cidr {
        if !s.contains('/') {
            return Err("network must have a \"/\"".to_owned());
        }
        parse_interface(s).ok_or_else(|| "invalid network address".to_owned())?
    } else {
        (
            s.parse::<IpAddr>()
                .map_err(|_| "invalid network address".to_owned())?,
            None,
        )
    };
    if let Some(prefix) = prefix {
        let (network, _) = network_of(ip, prefix);
        if network != ip {
            return Err("invalid network address".to_owned());
        }
    }
    if ip_is_reserved(ip) {
        return Err("mustn't be reserved network".to_owned());
    }
    if params.flag("private_only", false) && !ip_is_private(ip) {
        return Err("must be private network".to_owned());
    }
    Ok(None)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DomainKind {
    Domainname,
    Hostname,
    Netbios,
}

fn check_domain(s: &str, params: &Params, kind: DomainKind) -> CheckResult {
    let kind = match params.get("type").and_then(Value::as_str) {
        Some("netbios") => DomainKind::Netbios,
        Some("hostname") => DomainKind::Hostname,
        Some("domainname") => DomainKind::Domainname,
        _ => kind,
    };
    let allow_ip = params.flag("allow_ip", false);
    let allow_cidr = params.flag("allow_cidr_network", false);
    let looks_ip = parse_interface(s).is_some();
    if looks_ip {
        if !allow_ip && !allow_cidr {
            return Err("must not be an IP".to_owned());
        }
        if allow_ip && !s.contains('/') {
            return check_ip(s, &Params::for_type(VarType::Ip, Vec::new(), Vec::new()));
        }
        if allow_cidr {
            let p = Params(vec![("cidr".to_owned(), Value::Bool(true))]);
            return check_network(s, &p);
        }
        return Err("must not be an IP".to_owned());
    }
    let max = if kind == DomainKind::Netbios { 15 } else { 63 };
    let warnings_only = kind == DomainKind::Netbios;
    let body = if params.flag("allow_startswith_dot", false) {
        s.strip_prefix('.').unwrap_or(s)
    } else {
        s
    };
    let body = body.strip_suffix('.').unwrap_or(body);
    if kind == DomainKind::Domainname {
        if !params.flag("allow_without_dot", false) && !s.contains('.') {
            return Err("must have dot".to_owned());
        }
        if s.chars().count() > 255 {
            return Err("invalid length (max 255)".to_owned());
        }
        for label in body.split('.') {
            label_length(label, max)?;
        }
    } else {
        label_length(s, max)?;
    }
    // Second level: lowercase, `[a-z0-9-]` labels not starting with `-`.
    let second = if s.chars().any(|c| c.is_ascii_uppercase()) {
        Some("some characters are uppercase".to_owned())
    } else {
        let labels: Vec<&str> = if kind == DomainKind::Domainname {
            body.split('.').collect()
        } else {
            vec![body]
        };
        let bad = labels
            .iter()
            .any(|l| l.starts_with('-') || !DOMAIN_LABEL.is_match(l))
            || (kind != DomainKind::Domainname && body.contains('.'));
        bad.then(|| {
            if kind == DomainKind::Domainname {
                "must start with lowercase characters followed by lowercase characters, number, \"-\" and \".\" characters are allowed".to_owned()
            } else {
                "must start with lowercase characters followed by lowercase characters, number and \"-\" characters are allowed".to_owned()
            }
        })
    };
    match second {
        None => Ok(None),
        Some(msg) if warnings_only => Ok(Some(msg.replace("are allowed", "are recommanded"))),
        Some(msg) => Err(msg),
    }
}

fn label_length(label: &str, max: usize) -> Result<(), String> {
    let len = label.chars().count();
    if len < 1 {
        return Err("invalid length (min 1)".to_owned());
    }
    if len > max {
        return Err(format!("invalid length (max {max})"));
    }
    Ok(())
}

/// Checks Tiramisu makes when it builds the option, whatever the value: a
/// `port` (or the port part of a `web_address`) must allow one contiguous
/// range of port numbers.
///
/// # Errors
/// The message Tiramisu gives.
pub fn check_params(ty: VarType, params: &Params) -> Result<(), String> {
    match ty {
        VarType::Port => port_bounds(params).map(|_| ()),
        VarType::WebAddress => {
            let mut port_params = Params(params.0.clone());
            if port_params.get("allow_private").is_none() {
                port_params
                    .0
                    .push(("allow_private".to_owned(), Value::Bool(false)));
            }
            port_bounds(&port_params).map(|_| ())
        }
        _ => Ok(()),
    }
}

fn port_bounds(params: &Params) -> Result<(u32, u32), String> {
    let allowed = [
        params.flag("allow_zero", false),
        params.flag("allow_wellknown", true),
        params.flag("allow_registred", true),
        params.flag("allow_private", false),
    ];
    let mins = [0, 1, 1024, 49152];
    let maxs = [0, 1023, 49151, 65535];
    let mut min = None;
    let mut max = None;
    // as Tiramisu's PortOption: the allowed ranges must be contiguous
    let mut gap = false;
    for (i, a) in allowed.iter().enumerate() {
        if *a {
            if min.is_none() {
                min = Some(mins[i]);
            } else if gap {
                return Err("inconsistency in allowed range".to_owned());
            }
            max = Some(maxs[i]);
        } else if min.is_some() {
            gap = true;
        }
    }
    match (min, max) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err("max value is empty".to_owned()),
    }
}

fn check_port(s: &str, params: &Params) -> CheckResult {
    let parts: Vec<&str> = if params.flag("allow_protocol", false)
        && (s.starts_with("tcp:") || s.starts_with("udp:"))
    {
        vec![&s[4..]]
    } else if params.flag("allow_range", false) && s.contains(':') {
        let parts: Vec<&str> = s.split(':').collect();
        if parts.len() != 2 {
            return Err("range must have two values only".to_owned());
        }
        if parts[0] >= parts[1] {
            return Err("first port in range must be smaller than the second one".to_owned());
        }
        parts
    } else {
        vec![s]
    };
    let (min, max) = port_bounds(params)?;
    for part in parts {
        if part.is_empty() || !part.chars().all(|c| c.is_ascii_digit()) {
            return Err("invalid port".to_owned());
        }
        let n: u64 = part.parse().map_err(|_| "invalid port".to_owned())?;
        if n < u64::from(min) || n > u64::from(max) {
            return Err(format!("must be between {min} and {max}"));
        }
    }
    Ok(None)
}

fn check_web(s: &str, params: &Params) -> CheckResult {
    let (scheme_port, rest) = if let Some(r) = s.strip_prefix("http://") {
        ("80", r)
    } else if let Some(r) = s.strip_prefix("https://") {
        ("443", r)
    } else {
        return Err("must start with http:// or https://".to_owned());
    };
    let (domain, files) = match rest.split_once('/') {
        Some((d, f)) => (d, Some(f)),
        None => (rest, None),
    };
    let (domain, port) = match domain.split_once(':') {
        Some((d, p)) => (d, p),
        None => (domain, scheme_port),
    };
    let mut port_params = Params(params.0.clone());
    if port_params.get("allow_private").is_none() {
        port_params
            .0
            .push(("allow_private".to_owned(), Value::Bool(false)));
    }
    if let Err(e) = check_port(port, &port_params) {
        return Err(format!("the port \"{domain}\" is invalid: {e}"));
    }
    let mut domain_params = Params(params.0.clone());
    if domain_params.get("type").is_none() {
        domain_params
            .0
            .push(("type".to_owned(), Value::Str("domainname".to_owned())));
    }
    let warning = match check_domain(domain, &domain_params, DomainKind::Domainname) {
        Ok(w) => w,
        Err(e) => return Err(format!("the domain \"{domain}\" is invalid: {e}")),
    };
    if let Some(files) = files {
        if !files.is_empty() && !PATH_RE.is_match(files) {
            return Err("must ends with a valid resource name".to_owned());
        }
    }
    Ok(warning)
}

/// Convert text (command line, form field) to a value of this type.
pub fn from_text(ty: VarType, text: &str) -> Result<Value, String> {
    match ty {
        VarType::Integer | VarType::UnixPermissions => text
            .trim()
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| format!("`{text}` is not an integer")),
        VarType::Float => text
            .trim()
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| format!("`{text}` is not a float")),
        VarType::Boolean => match text.trim().to_lowercase().as_str() {
            "true" | "yes" | "oui" | "on" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "non" | "off" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!("`{text}` is not a boolean (true or false)")),
        },
        _ => Ok(Value::Str(text.to_owned())),
    }
}

/// Convert the text a jinja calculation printed, as Rougail does: `int()`,
/// `float()`, booleans case-insensitively, everything else as a string;
/// `""` and `"None"` are null.
pub fn from_jinja_output(ty: VarType, text: &str) -> Result<Value, String> {
    let converted = match ty {
        VarType::Integer | VarType::UnixPermissions => {
            let t = text.trim();
            if t.is_empty() {
                return Err(format!("\"{text}\" is an invalid {}", ty.name()));
            }
            Value::Int(
                t.replace('_', "")
                    .parse::<i64>()
                    .map_err(|_| format!("\"{text}\" is an invalid {}", ty.name()))?,
            )
        }
        VarType::Float => {
            let t = text.trim();
            Value::Float(
                t.parse::<f64>()
                    .map_err(|_| format!("\"{text}\" is an invalid {}", ty.name()))?,
            )
        }
        VarType::Boolean => match text.to_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "" => Value::Null,
            _ => return Err(format!("\"{text}\" is an invalid {}", ty.name())),
        },
        _ => {
            if text.is_empty() || text == "None" {
                Value::Null
            } else {
                Value::Str(text.to_owned())
            }
        }
    };
    Ok(converted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(ty: VarType) -> Params {
        Params::for_type(ty, Vec::new(), Vec::new())
    }

    fn s(text: &str) -> Value {
        Value::Str(text.to_owned())
    }

    #[test]
    fn constant_patterns_compile() {
        let _ = (
            &*MAIL,
            &*UNIX_USER,
            &*MAC,
            &*PERMISSIONS,
            &*DOMAIN_LABEL,
            &*PATH_RE,
        );
    }

    #[test]
    fn port_defaults_allow_1_to_65535() {
        let p = params(VarType::Port);
        assert_eq!(check(VarType::Port, &p, &s("8080")), Check::Valid);
        assert_eq!(check(VarType::Port, &p, &Value::Int(65535)), Check::Valid);
        assert_eq!(
            check(VarType::Port, &p, &s("0")),
            Check::Invalid("must be between 1 and 65535".into())
        );
        assert_eq!(
            check(VarType::Port, &p, &s("99999")),
            Check::Invalid("must be between 1 and 65535".into())
        );
    }

    #[test]
    fn integer_accepts_booleans_like_python() {
        assert_eq!(
            check(
                VarType::Integer,
                &params(VarType::Integer),
                &Value::Bool(true)
            ),
            Check::Valid
        );
        assert!(matches!(
            check(VarType::Integer, &params(VarType::Integer), &s("1")),
            Check::Invalid(_)
        ));
    }

    #[test]
    fn float_refuses_integers() {
        assert!(matches!(
            check(VarType::Float, &params(VarType::Float), &Value::Int(1)),
            Check::Invalid(_)
        ));
    }

    #[test]
    fn domain_names_need_a_dot_unless_allowed() {
        let p = params(VarType::Domainname);
        assert_eq!(
            check(VarType::Domainname, &p, &s("example.net")),
            Check::Valid
        );
        assert_eq!(
            check(VarType::Domainname, &p, &s("example")),
            Check::Invalid("must have dot".into())
        );
        assert_eq!(
            check(VarType::Domainname, &p, &s("192.168.1.1")),
            Check::Invalid("must not be an IP".into())
        );
        assert!(matches!(
            check(VarType::Domainname, &p, &s("Example.net")),
            Check::Invalid(_)
        ));
    }

    #[test]
    fn ip_cidr_and_networks() {
        let mut p = params(VarType::Ip);
        assert_eq!(check(VarType::Ip, &p, &s("192.168.1.1")), Check::Valid);
        assert!(matches!(
            check(VarType::Ip, &p, &s("192.168.1.300")),
            Check::Invalid(_)
        ));
        p.0.push(("cidr".into(), Value::Bool(true)));
        assert_eq!(check(VarType::Ip, &p, &s("192.168.1.1/24")), Check::Valid);
        assert!(matches!(
            check(VarType::Ip, &p, &s("192.168.1.0/24")),
            Check::Invalid(_)
        ));
        let n = params(VarType::Network);
        assert_eq!(check(VarType::Network, &n, &s("192.168.1.0")), Check::Valid);
        assert_eq!(
            check(VarType::Netmask, &n, &s("255.255.255.0")),
            Check::Valid
        );
        assert!(matches!(
            check(VarType::Netmask, &n, &s("255.0.255.0")),
            Check::Invalid(_)
        ));
    }

    #[test]
    fn web_addresses() {
        let p = params(VarType::WebAddress);
        assert_eq!(
            check(VarType::WebAddress, &p, &s("https://example.net/path")),
            Check::Valid
        );
        assert_eq!(
            check(VarType::WebAddress, &p, &s("http://localhost:8080")),
            Check::Valid
        );
        assert!(matches!(
            check(VarType::WebAddress, &p, &s("ftp://x")),
            Check::Invalid(_)
        ));
    }

    #[test]
    fn permissions_warn_on_weak_modes() {
        let p = params(VarType::UnixPermissions);
        assert_eq!(
            check(VarType::UnixPermissions, &p, &Value::Int(644)),
            Check::Valid
        );
        assert_eq!(
            check(VarType::UnixPermissions, &p, &Value::Int(777)),
            Check::Warning("too weak".into())
        );
        assert!(matches!(
            check(VarType::UnixPermissions, &p, &Value::Int(888)),
            Check::Invalid(_)
        ));
    }

    #[test]
    fn dates_are_checked() {
        let p = params(VarType::Date);
        assert_eq!(check(VarType::Date, &p, &s("2024-02-29")), Check::Valid);
        assert!(matches!(
            check(VarType::Date, &p, &s("2023-02-29")),
            Check::Invalid(_)
        ));
    }

    #[test]
    fn jinja_output_conversion() {
        assert_eq!(
            from_jinja_output(VarType::Integer, " 3 "),
            Ok(Value::Int(3))
        );
        assert_eq!(
            from_jinja_output(VarType::Boolean, "True"),
            Ok(Value::Bool(true))
        );
        assert_eq!(from_jinja_output(VarType::String, "None"), Ok(Value::Null));
        assert_eq!(from_jinja_output(VarType::Port, "80"), Ok(s("80")));
        assert!(from_jinja_output(VarType::Integer, "x").is_err());
    }
}

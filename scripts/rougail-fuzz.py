#!/usr/bin/env python3
"""Random differential testing of brise against Rougail 1.3.1.

    scripts/rougail-fuzz.py [--count N] [--seed S] [--out DIR] [-j N]
                            [--generate-only] [--keep-all] [--case SEED]

Generates random Rougail 1.1 dictionaries (1 to 3 files each), runs the reference
printer (`rougail-flat-json.py`, with the interpreter of Rougail's venv) and
`brise show --json` on each, and sorts the results:

* ``same``         both print the same bytes;
* ``both-error``   both refuse the dictionary (fine: the generator is not perfect);
* ``diff``         both accept it, the JSON differs;
* ``rougail-only`` Rougail refuses it, brise accepts it;
* ``brise-only``   brise refuses it, Rougail accepts it.

Every case that is not ``same`` or ``both-error`` is kept under ``OUT/<kind>/<seed>/``
(``dictionaries/``, both outputs and errors, ``diff``); ``--keep-all`` keeps every
case. ``OUT/summary.txt`` lists the results. A case is reproducible from its seed:
``--case SEED`` regenerates and runs that one case only (with ``--seed`` unused).

What the generator combines (always from one seed, ``random.Random(seed)``):

* plain families, nested families, family shorthand (a comment as description),
  leaderships (``type: leadership``/``sequence``; leader list default or empty;
  followers with a static, list (submulti), ``index``, ``variable`` or ``jinja``
  default), dynamic families whose identifiers come from a static list, a multi
  variable or a jinja calculation (identifiers with capitals, spaces, dashes,
  dots and accents, to exercise the normalisation of instance names);
* variables of every type (string, integer, number, float, boolean, secret,
  mail, unix_filename, date, unix_user, ip, cidr, netmask, network,
  network_cidr, domainname, hostname, web_address, port, mac,
  unix_permissions, choice, regexp), with type ``params``, ``multi`` (inferred
  or explicit, ``unique: false``), ``mandatory: false``, shorthand
  declarations with end-of-line comments, ``help``, ``mode``, ``auto_save``,
  ``frozen``;
* defaults: static, ``variable`` (relative or absolute path, one dynamic
  instance or all of them, a follower seen from outside), ``jinja`` (with
  ``params`` of every kind), ``identifier``, ``index``, ``information``;
* ``hidden``/``disabled``/``mandatory`` as booleans, variable conditions
  (``when``, ``when_not``, boolean source, ``propertyerror: false``,
  ``optional: true``), identifier conditions and jinja conditions (string or
  ``return_type: boolean``);
* ``choices`` (static, from a multi variable, jinja), ``regexp``, jinja
  ``validators`` (some of which fail: Rougail then refuses the dictionary);
* a second file that redefines variables and families (``redefine: true``),
  uses ``exists: true/false`` on present and absent paths, and appends new
  variables to existing families; sometimes a third file doing it again.

References only go to variables generated earlier (no cycles). A small share of
values is deliberately invalid for its type (Rougail must refuse those, and so
must brise). Secrets never get a calculated default (brise masks those on
purpose, docs/conformance.md).

Environment: VENV (Rougail's venv, default /tmp/rougail-venv), SHARED (default
../shared beside the project root, else /work/shared), BRISE (the binary; default
target/debug/brise, built with ``cargo build --bin brise`` if missing).
"""

import argparse
import difflib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ----------------------------------------------------------------------------- YAML emitter


class Lit:
    """A block literal scalar (``|`` or ``|-``)."""

    def __init__(self, text):
        self.text = text


class Flow:
    """A list written in flow style (``[a, b]``)."""

    def __init__(self, items):
        self.items = items


class Com:
    """A value with an end-of-line comment on its key line."""

    def __init__(self, value, comment):
        self.value = value
        self.comment = comment


PLAIN_RE = re.compile(r"^[A-Za-z/][A-Za-z0-9_ ./:@-]*$")
YAML_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def scalar(v, rng=None):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    s = str(v)
    style = rng.random() if rng else 0.0
    if (
        style < 0.5
        and PLAIN_RE.match(s)
        and s.lower() not in YAML_WORDS
        and not s.endswith(" ")
        and ": " not in s
        and " #" not in s
    ):
        return s
    if style < 0.75 and "\n" not in s:
        return "'" + s.replace("'", "''") + "'"
    return json.dumps(s, ensure_ascii=rng.random() < 0.5 if rng else True)


def emit(mapping, indent=0, rng=None, out=None):
    """Emit an ordered mapping as YAML lines."""
    out = [] if out is None else out
    pad = " " * indent
    for key, value in mapping.items():
        comment = ""
        if isinstance(value, Com):
            comment = "  # " + value.comment
            value = value.value
        if str(key).startswith("{"):
            key = json.dumps(key) if rng is None or rng.random() < 0.5 else f"'{key}'"
        emit_value(f"{pad}{key}:", value, indent, comment, rng, out)
    return out


def emit_value(head, value, indent, comment, rng, out):
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            out.append(f"{head} {{}}{comment}")
        else:
            out.append(f"{head}{comment}")
            emit(value, indent + 2, rng, out)
    elif isinstance(value, Flow):
        out.append(f"{head} [{', '.join(scalar(x, rng) for x in value.items)}]{comment}")
    elif isinstance(value, list):
        if not value:
            out.append(f"{head} []{comment}")
            return
        out.append(f"{head}{comment}")
        for item in value:
            if isinstance(item, dict):
                sub = emit(item, indent + 4, rng)
                out.append(f"{pad}  - " + sub[0].lstrip())
                out.extend(sub[1:])
            else:
                out.append(f"{pad}  - {scalar(item, rng)}")
    elif isinstance(value, Lit):
        text = value.text
        chomp = "" if text.endswith("\n") else "-"
        out.append(f"{head} |{chomp}{comment}")
        for line in text.rstrip("\n").split("\n"):
            out.append(f"{pad}  {line}" if line else "")
    elif value is None and comment:
        out.append(f"{head}{comment}")
    else:
        out.append(f"{head} {scalar(value, rng)}{comment}")


# ----------------------------------------------------------------------------- model

WORDS = [
    "alpha", "proxy", "server", "port", "mode", "user", "net", "dns", "mail",
    "path", "level", "color", "count", "name", "addr", "host", "zone", "limit",
    "flag", "title", "owner", "group", "size", "rate", "opt", "item",
]
STRINGS = ["hello", "Hello World", "a-b_c", "\u00e9t\u00e9", "it's", "x", "no", "yes",
           "a: b", "#hash", "tab\tin", "two words", "z", "", "100", "true"]
IDENTS = ["val1", "val2", "Val 3", "a-b", "x.y", "\u00e9t\u00e9", "UP", "n1", "srv", "c"]
TYPES = [
    ("string", 16), ("integer", 8), ("boolean", 6), ("float", 3), ("number", 1),
    ("port", 3), ("domainname", 3), ("hostname", 2), ("ip", 3), ("cidr", 1),
    ("network", 2), ("netmask", 2), ("network_cidr", 1), ("mail", 2),
    ("web_address", 2), ("date", 2), ("unix_user", 2), ("unix_filename", 2),
    ("secret", 2), ("mac", 1), ("unix_permissions", 1), ("choice", 6), ("regexp", 2),
]
SAMPLES = {
    "string": ["hello", "Hello World", "a-b_c", "\u00e9t\u00e9", "it's", "x", "no", "100"],
    "integer": [0, 1, 3, 42, -5, 1000, 7],
    "number": [0, 2, 12, -1],
    "float": [0.5, 1.25, -3.0, 10.1, 2.0],
    "boolean": [True, False],
    "port": [80, 443, 8080, "22", "3128", 65535, 1],
    "domainname": ["example.net", "sub.example.com", "a-b.org", "x.fr"],
    "hostname": ["host1", "myhost", "srv-01", "a"],
    "ip": ["192.168.1.1", "10.0.0.1", "1.1.1.1", "172.16.5.4"],
    "cidr": ["192.168.1.1/24", "10.0.0.5/8"],
    "network": ["192.168.1.0", "10.0.0.0", "172.16.0.0"],
    "netmask": ["255.255.255.0", "255.0.0.0", "255.255.0.0", "255.255.255.255"],
    "network_cidr": ["192.168.1.0/24", "10.0.0.0/8"],
    "mail": ["user@example.net", "a.b@c.org", "root@localhost"],
    "web_address": ["https://example.net", "http://host.example.com:8080/path", "http://srv"],
    "date": ["2024-01-31", "2000-02-29", "1999-12-01"],
    "unix_user": ["root", "user_1", "www-data"],
    "unix_filename": ["/etc/passwd", "/tmp/my file.txt", "/var/lib/"],
    "secret": ["s3cr3t", "p@ss word", "xyz"],
    "mac": ["00:11:22:33:44:55", "AA:bb:CC:01:02:03"],
    "unix_permissions": [644, 755, 600, 1777],
    "regexp": ["abc", "xyz", "q"],
}
INVALID = {
    "integer": ["1", 1.5], "number": ["x"], "float": [1, "x"], "boolean": ["yes", 1],
    "port": [0, 70000, "8o", -1], "domainname": ["Example.net", "nodot", "a_b.com", "1.1.1.1"],
    "hostname": ["a.b", "UP"], "ip": ["300.1.1.1", "1.1.1"], "cidr": ["1.1.1.1"],
    "network": ["192.168.1.1/24", "192.168.1.300"], "netmask": ["255.0.255.0", "1.2.3.4"],
    "network_cidr": ["192.168.1.1/24"], "mail": ["nope", "a@"], "web_address": ["ftp://x.org", "example.net"],
    "date": ["2024-02-30", "31/01/2024"], "unix_user": ["Root", "1abc"],
    "unix_filename": ["relative/path"], "mac": ["00:11:22"], "string": [1, True],
    "regexp": ["ABC"], "secret": [1],
}
# a type written as a plain YAML scalar of this Python type needs no `type:`
INFERRED = {"string": str, "integer": int, "boolean": bool, "float": float}


def normalize(ident):
    s = str(ident).lower().replace("-", "_").replace(" ", "_").replace(".", "_")
    s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    return s.lower()


class Var:
    """What the generator knows of a variable it created (for references)."""

    def __init__(self, path, vtype, multi, **kw):
        self.path = path  # segments below the namespace; dynamic ones hold "{{ identifier }}"
        self.type = vtype
        self.multi = multi
        self.role = kw.get("role")  # None, "leader", "follower"
        self.lead = kw.get("lead")  # the leadership family path
        self.dyn = kw.get("dyn")  # (segment index, [identifiers] or None) of its dynamic family
        self.nullable = kw.get("nullable", False)  # its value may be null
        self.fragile = kw.get("fragile", False)  # may be disabled
        self.help = kw.get("help")
        self.values = kw.get("values")  # known static value(s), for conditions

    @property
    def name(self):
        return self.path[-1]


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.seed = seed
        self.vars = []
        self.families = []  # (path, node dict, kind, dyn)
        self.names = 0
        self.exclude = None  # a variable references must avoid (itself, when redefined)

    # --- helpers
    def chance(self, p):
        return self.rng.random() < p

    def pick(self, seq):
        return self.rng.choice(seq)

    def new_name(self, prefix=None):
        self.names += 1
        return f"{prefix or self.pick(WORDS)}{self.names}"

    def weighted_type(self):
        total = sum(w for _, w in TYPES)
        r = self.rng.uniform(0, total)
        for t, w in TYPES:
            r -= w
            if r <= 0:
                return t
        return "string"

    def sample(self, vtype, params=None):
        params = params or {}
        if self.chance(0.04) and vtype in INVALID:
            return self.pick(INVALID[vtype])
        if vtype in ("integer", "number"):
            lo = params.get("min_integer", params.get("min_number"))
            hi = params.get("max_integer", params.get("max_number"))
            if lo is not None or hi is not None:
                lo = lo if lo is not None else (hi - 10)
                hi = hi if hi is not None else lo + 10
                return self.rng.randint(lo, max(lo, hi))
        if vtype == "domainname" and params.get("allow_without_dot") and self.chance(0.5):
            return "localhost"
        if vtype in ("domainname", "web_address") and params.get("allow_ip") and self.chance(0.5):
            return "192.168.0.1" if vtype == "domainname" else "https://192.168.0.1"
        if vtype == "ip" and params.get("cidr"):
            return self.pick(["192.168.1.1/24", "10.0.0.5/8"])
        if vtype == "network" and params.get("cidr"):
            return self.pick(["192.168.1.0/24", "10.0.0.0/8"])
        if vtype == "port" and params.get("allow_range") and self.chance(0.5):
            return "80:85"
        if vtype == "port" and params.get("allow_protocol") and self.chance(0.5):
            return "tcp:80"
        if vtype == "port" and params.get("allow_zero") and self.chance(0.3):
            return 0
        if vtype == "unix_filename" and params.get("allow_relative") and self.chance(0.5):
            return "relative/file"
        if vtype == "choice":
            return self.pick(["a", "b", 1])
        if vtype == "string":
            return self.pick(STRINGS) if self.chance(0.3) else self.pick(SAMPLES["string"])
        return self.pick(SAMPLES[vtype])

    def params_for(self, vtype):
        p = {}
        if vtype in ("integer", "number") and self.chance(0.5):
            lo = self.rng.randint(-5, 5)
            key = "min_integer" if vtype == "integer" else "min_number"
            if self.chance(0.7):
                p[key] = lo
            if self.chance(0.7):
                p[key.replace("min", "max")] = lo + self.rng.randint(0, 50)
        elif vtype == "domainname":
            for k in ("allow_ip", "allow_without_dot", "allow_startswith_dot", "allow_cidr_network"):
                if self.chance(0.3):
                    p[k] = self.chance(0.7)
        elif vtype == "hostname" and self.chance(0.3):
            p["allow_ip"] = True
        elif vtype == "ip":
            for k in ("cidr", "private_only", "allow_reserved"):
                if self.chance(0.25):
                    p[k] = self.chance(0.6)
        elif vtype == "network":
            if self.chance(0.3):
                p["cidr"] = True
        elif vtype == "port":
            for k in ("allow_range", "allow_protocol", "allow_zero", "allow_private", "allow_wellknown"):
                if self.chance(0.25):
                    p[k] = self.chance(0.7)
        elif vtype == "secret":
            if self.chance(0.3):
                p["min_len"] = self.rng.randint(1, 4)
            if self.chance(0.2):
                p["forbidden_char"] = Flow(["@"])
        elif vtype == "unix_filename" and self.chance(0.3):
            p["allow_relative"] = True
        elif vtype == "web_address" and self.chance(0.3):
            p["allow_ip"] = True
        return p

    # --- references
    def visible(self, anchor, want=None, allow_dyn_all=False, allow_follower=False):
        """Variables a calculation anchored in family `anchor` may reference.
        Returns (var, path text, multi-as-seen, scalar-instance) tuples."""
        out = []
        for v in self.vars:
            if (want and not want(v)) or v is self.exclude:
                continue
            common = 0
            while common < len(anchor) and common < len(v.path) - 1 and anchor[common] == v.path[common]:
                common += 1
            rest = v.path[common:]
            multi = v.multi
            # crossing into a dynamic family from outside
            dyn_seen = v.dyn is not None and v.dyn[0] >= common
            if dyn_seen:
                idents = v.dyn[1]
                seg = v.path[v.dyn[0]]
                if idents and self.chance(0.6):
                    inst = seg.replace("{{ identifier }}", normalize(self.pick(idents)))
                    rest = [inst if s == seg else s for s in rest]
                elif allow_dyn_all and not v.multi:
                    multi = True
                else:
                    continue
            if v.lead is not None and not (len(anchor) >= len(v.lead) and anchor[: len(v.lead)] == v.lead):
                # a leader or follower seen from outside its leadership: a list
                if v.role == "follower":
                    if not allow_follower:
                        continue
                    multi = True
            ups = len(anchor) - common
            if self.chance(0.3) and not (v.dyn is not None and not dyn_seen):
                text = ".".join(["rougail"] + v.path[:common] + rest)
            else:
                text = "_" * (ups + 1) + "." + ".".join(rest)
            out.append((v, text, multi))
        return out

    def pick_ref(self, anchor, **kw):
        cands = self.visible(anchor, **kw)
        return self.pick(cands) if cands else None

    # --- jinja
    def jinja_cond(self, anchor, here=None):
        """A jinja boolean expression on a visible variable, or None."""
        ref = self.pick_ref(anchor, allow_follower=self.chance(0.3))
        if ref is None:
            return None
        v, p, multi = ref
        if v.fragile and self.chance(0.6):
            return self.pick([f"{p} is propertyerror", f"{p} is not propertyerror"])
        if multi:
            val = self.sample(v.type) if v.type != "choice" else "a"
            return self.pick([
                f"{p} | length > 1", f"{json.dumps(val)} in {p}", f"not {p}", f"{p}",
                f"{p} | length == 0",
            ])
        if v.type == "boolean":
            return self.pick([f"{p}", f"not {p}", f"{p} is true", f"{p} is false", f"{p} == false"])
        if v.type in ("integer", "number") and not v.nullable:
            n = self.rng.randint(-2, 10)
            return self.pick([f"{p} > {n}", f"{p} == {n}", f"{p} <= {n}", f"{p} % 2 == 0", f"{p} is odd"])
        val = v.values[0] if v.values and self.chance(0.5) else self.sample(v.type)
        if isinstance(val, str) or val is None:
            lit = json.dumps(val) if val is not None else "none"
        else:
            lit = json.dumps(val) if not isinstance(val, bool) else ("true" if val else "false")
        choices = [f"{p} == {lit}", f"{p} != {lit}", f"{p} is none", f"{p} is not none"]
        if not v.nullable and v.type in ("string", "domainname", "hostname", "mail", "unix_user", "choice"):
            choices += [f"{p}.startswith('a')", f"'e' in {p}", f"{p} | length > 3", f"{p}.upper() == {p}"]
        return self.pick(choices)

    def jinja_value(self, anchor, vtype, multi, params_out):
        """Jinja text giving a value of `vtype` (lines for a multi), or None."""
        r = self.rng.random()
        if multi:
            ref = self.pick_ref(anchor, want=lambda v: v.multi and v.type == vtype, allow_follower=True)
            if ref and r < 0.5:
                return f"{{% for x in {ref[1]} %}}\n{{{{ x }}}}\n{{% endfor %}}\n"
            vals = [self.sample(vtype) for _ in range(self.rng.randint(0, 3))]
            vals = [v for v in vals if not isinstance(v, bool)] if vtype != "boolean" else vals
            if vtype == "boolean":
                vals = ["true" if v else "false" for v in vals if isinstance(v, bool)]
            lines = "".join(f"{v}\n" for v in dict.fromkeys(str(v) for v in vals))
            cond = self.jinja_cond(anchor)
            if cond and lines:
                return f"{{% if {cond} %}}\n{lines}{{% endif %}}\n"
            return lines or "\n"
        if r < 0.3:
            ref = self.pick_ref(anchor, want=lambda v: v.type == vtype and not v.multi)
            if ref:
                return self.pick(["{{ %s }}" % ref[1], "{{ %s }}\n" % ref[1]])
        if r < 0.45 and params_out is not None:
            name = self.pick(["param", "p1", "value"])
            kind = self.rng.random()
            if kind < 0.4:
                params_out[name] = self.sample(vtype) if vtype not in ("choice",) else "a"
                if isinstance(params_out[name], bool):
                    return "{{ %s }}" % name
                return "{{ %s }}" % name
            ref = self.pick_ref(anchor, want=lambda v: v.type == vtype and not v.multi)
            if ref and kind < 0.8:
                p = {"type": "variable", "variable": ref[1]} if self.chance(0.5) else {"variable": ref[1]}
                if ref[0].fragile or self.chance(0.2):
                    p["propertyerror"] = False
                params_out[name] = p
                return "{{ %s }}" % name
            if kind >= 0.8:
                params_out[name] = {"variable": "_.does_not_exist", "optional": True}
                val = self.sample(vtype)
                return "{%% if %s is defined %%}{{ %s }}{%% else %%}%s{%% endif %%}" % (name, name, self.text(val))
        if vtype in ("integer", "number"):
            ref = self.pick_ref(anchor, want=lambda v: v.type in ("integer", "number") and not v.multi and not v.nullable)
            if ref:
                return self.pick([
                    "{{ %s + 1 }}" % ref[1], "{{ %s * 2 }}" % ref[1], "{{ %s // 2 }}" % ref[1],
                    "{{ (%s - 3) | abs }}" % ref[1],
                ])
            ref = self.pick_ref(anchor, want=lambda v: v.multi, allow_follower=True)
            if ref:
                return "{{ %s | length }}" % ref[1]
        if vtype == "string":
            ref = self.pick_ref(anchor, want=lambda v: not v.fragile, allow_follower=True)
            if ref:
                v, p, multi = ref
                if multi:
                    return self.pick(["{{ %s | join(',') }}" % p, "{{ %s | join(', ') }}" % p,
                                      "{{ %s | first }}" % p, "{{ %s | sort | join(' ') }}" % p])
                if not v.nullable and v.type in ("string", "domainname", "mail"):
                    return self.pick(["{{ %s | upper }}" % p, "{{ %s ~ '-x' }}" % p, "{{ %s | capitalize }}" % p,
                                      "{{ %s.replace('a', 'b') }}" % p, "{{ %s[:3] }}" % p,
                                      "{{ %s | replace('e', 'E') }}" % p, "prefix-{{ %s }}" % p])
                return self.pick(["{{ %s }}" % p, "value: {{ %s }}" % p, "{{ %s | string }}" % p])
        if vtype == "boolean":
            cond = self.jinja_cond(anchor)
            if cond:
                return self.pick(["{{ %s }}" % cond, "{%% if %s %%}true{%% else %%}false{%% endif %%}" % cond])
        if vtype == "float":
            ref = self.pick_ref(anchor, want=lambda v: v.type in ("float", "integer") and not v.multi and not v.nullable)
            if ref:
                return self.pick(["{{ %s / 2 }}" % ref[1], "{{ %s * 1.5 }}" % ref[1]])
        cond = self.jinja_cond(anchor)
        a, b = self.sample(vtype), self.sample(vtype)
        if vtype == "boolean":
            a, b = self.text(a), self.text(b)
        if cond:
            return "{%% if %s %%}%s{%% else %%}%s{%% endif %%}" % (cond, self.text(a), self.text(b))
        return self.text(a)

    @staticmethod
    def text(val):
        if isinstance(val, bool):
            return "true" if val else "false"
        return str(val)

    def jinja_calc(self, text):
        calc = {}
        if self.chance(0.5):
            calc["type"] = "jinja"
        calc["jinja"] = Lit(text) if "\n" in text or self.chance(0.3) else text
        return calc

    # --- properties
    def condition(self, anchor, prop, dyn=None):
        """A value for hidden/disabled/mandatory, or None."""
        r = self.rng.random()
        if r < 0.25:
            return self.chance(0.7) if prop != "mandatory" else self.chance(0.3)
        if r < 0.35 and dyn and dyn[1]:
            c = {"type": "identifier"}
            c["when" if self.chance(0.6) else "when_not"] = self.pick(dyn[1])
            return c
        if r < 0.65:
            ref = self.pick_ref(anchor, want=lambda v: not v.multi and v.role is None)
            if ref is None:
                return None
            v, p, multi = ref
            c = {}
            if self.chance(0.3):
                c["type"] = "variable"
            c["variable"] = p
            if v.type != "boolean" or self.chance(0.4):
                val = v.values[0] if v.values and self.chance(0.6) else self.sample(v.type)
                if self.chance(0.15):
                    val = None
                c["when" if self.chance(0.6) else "when_not"] = val
            if v.fragile or self.chance(0.1):
                c["propertyerror"] = False
            return c
        if r < 0.7:
            c = {"variable": "_.not_here", "optional": True}
            if self.chance(0.5):
                c["default"] = self.chance(0.5)
            return c
        cond = self.jinja_cond(anchor)
        if cond is None:
            return None
        if self.chance(0.5):
            c = self.jinja_calc("{{ %s }}" % cond)
            c["return_type"] = "boolean"
        else:
            c = self.jinja_calc("{%% if %s %%}\nreason {{ 1 }}\n{%% endif %%}\n" % cond
                                if self.chance(0.5) else "{%% if %s %%}yes{%% endif %%}" % cond)
        if self.chance(0.3):
            c["description"] = "when something holds"
        return c

    # --- variables
    def variable(self, parent, ctx):
        """Create a variable in family path `parent`; return (name, node)."""
        role = ctx.get("role")
        dyn = ctx.get("dyn")
        name = self.new_name()
        vtype = self.weighted_type()
        if vtype == "secret" and dyn:
            vtype = "string"
        node = {}
        multi = role == "leader" or (self.chance(0.2) and role != "leader")
        if role == "follower" and multi and self.chance(0.6):
            multi = False
        if (vtype == "boolean" and multi and self.chance(0.5)) or (vtype == "secret" and role != "leader"):
            multi = False
        params = self.params_for(vtype) if self.chance(0.5) else {}
        info = dict(role=role, lead=ctx.get("lead"), dyn=dyn)
        fragile = ctx.get("fragile", False)
        anchor = parent
        # default
        dkind = self.rng.random()
        default = None
        has_default = False
        inferred_from_var = False
        values = None
        nullable = False
        if vtype == "choice":
            self.choices(anchor, node)
        if vtype == "regexp":
            node["regexp"] = self.pick(["^[a-z]+$", "^[a-z]{1,3}$", "[xyzq]", "^(abc|xyz|q)$"])
        if role == "leader":
            if self.chance(0.8):
                vals = list(dict.fromkeys(self.sample_for(vtype, params, node) for _ in range(self.rng.randint(1, 3))))
                default = vals
                has_default = True
                values = vals
            elif self.chance(0.5):
                ref = self.pick_ref(anchor, want=lambda v: v.multi and v.type == vtype and v.role is None)
                if ref:
                    default = {"variable": ref[1]}
                    has_default = True
        elif vtype == "secret":
            if dkind < 0.8:
                default = self.sample("secret", params)
                has_default = True
        elif dkind < 0.4:
            if multi:
                n = self.rng.randint(0, 3)
                default = [self.sample_for(vtype, params, node) for _ in range(n)]
                if self.chance(0.85):
                    default = list(dict.fromkeys(default))
                    if len(default) > 1 and self.chance(0.1):
                        node_unique = False
                        default.append(default[0])
                        node["unique"] = node_unique
            else:
                default = self.sample_for(vtype, params, node)
            has_default = True
            values = default if isinstance(default, list) else [default]
        elif dkind < 0.55:
            ref = self.pick_ref(
                anchor,
                want=lambda v: (v.type == vtype or not self.chance(0.5)) and v.type != "secret",
                allow_dyn_all=not multi,
                allow_follower=role is None,
            )
            if ref:
                v, p, rmulti = ref
                calc = {"variable": p}
                if self.chance(0.3):
                    calc = {"type": "variable", "variable": p}
                if v.fragile or self.chance(0.1):
                    calc["propertyerror"] = False
                default = calc
                has_default = True
                vtype, multi = v.type, rmulti
                params = {}
                inferred_from_var = True
                nullable = v.nullable or v.fragile
                if vtype == "choice":
                    node.pop("choices", None)
                if vtype == "regexp":
                    node.pop("regexp", None)
                if role == "follower" and multi and v.lead is None:
                    # a multi source for a follower: a submulti follower
                    pass
            elif self.chance(0.3):
                default = {"variable": "_.nothing_here", "optional": True}
                if multi:
                    default["default"] = [] if self.chance(0.5) else [self.sample_for(vtype, params, node)]
                else:
                    default["default"] = self.sample_for(vtype, params, node) if self.chance(0.7) else None
                has_default = True
                nullable = default["default"] is None
        elif dkind < 0.75 and vtype != "secret":
            jparams = {}
            text = self.jinja_value(anchor, vtype, multi, jparams)
            if text is not None:
                default = self.jinja_calc(text)
                if jparams:
                    default["params"] = jparams
                has_default = True
                nullable = True
        elif dkind < 0.8 and dyn:
            default = {"type": "identifier"}
            if vtype not in ("choice", "regexp", "string"):
                vtype, params = "string", {}
            has_default = True
            if multi:
                default = [default, {"type": "identifier"}] if self.chance(0.3) else None
                has_default = default is not None
        elif dkind < 0.85 and role == "follower" and not multi:
            default = {"type": "index"}
            vtype = "integer" if self.chance(0.7) else vtype
            has_default = True
        elif dkind < 0.88:
            withhelp = [v for v in self.vars if v.help and not v.dyn and v.role is None]
            if withhelp and not multi:
                v = self.pick(withhelp)
                default = {"type": "information", "information": "help", "variable": ".".join(["rougail"] + v.path)}
                vtype, params = "string", {}
                has_default = True
            elif not multi:
                default = {"type": "information", "information": "unknown", "variable": None}
                has_default = True
                nullable = True
        if vtype == "choice" and "choices" not in node and not inferred_from_var:
            vtype = "string"
        # attributes, in a random but plausible order
        mandatory = None
        if self.chance(0.25) or (not has_default and self.chance(0.5)):
            mandatory = False
            nullable = True
        if not has_default:
            nullable = vtype != "boolean" or multi
        shorthand_ok = (
            not node and not params and role is None and mandatory is None
            and vtype in INFERRED and not inferred_from_var and self.chance(0.5)
            and (default is None or (not isinstance(default, dict) and not (isinstance(default, list) and any(isinstance(x, dict) for x in default))))
        )
        if shorthand_ok:
            if default is None and vtype == "string" and not multi:
                pass
            elif multi and isinstance(default, list) and default and all(type(x) is INFERRED[vtype] for x in default):
                pass
            elif not multi and default is not None and type(default) is INFERRED[vtype]:
                pass
            elif multi and default == [] and vtype == "string":
                pass
            else:
                shorthand_ok = False
        help_text = None
        if shorthand_ok and not (ctx.get("redefine_later") and self.chance(0.0)):
            value = default
            if isinstance(value, list) and self.chance(0.5):
                value = Flow(value)
            if self.chance(0.5):
                value = Com(value, self.pick(["a comment", "The description", "with: colon", "\u00e9t\u00e9"]))
            self.vars.append(Var(parent + [name], vtype, multi, nullable=nullable or default is None,
                                 fragile=fragile, values=values, **info))
            return name, value
        body = {}
        if self.chance(0.4):
            body["description"] = self.pick(["A variable", "Une variable \u00e9t\u00e9", "desc {{ identifier }}" if dyn else "desc", "it's: here"])
        if self.chance(0.15):
            help_text = self.pick(["some help", "Help text", "line: one"])
            body["help"] = help_text
        explicit_type = not (inferred_from_var and self.chance(0.7))
        if vtype in INFERRED and default is not None and not isinstance(default, dict) and self.chance(0.5):
            if not multi and type(default) is INFERRED[vtype]:
                explicit_type = False
            if multi and isinstance(default, list) and default and all(type(x) is INFERRED[vtype] for x in default):
                explicit_type = False
        if vtype == "string" and self.chance(0.5) and not inferred_from_var:
            explicit_type = False
        if vtype in ("choice", "regexp") and (self.chance(0.6) or inferred_from_var):
            explicit_type = False
        if explicit_type:
            body["type"] = vtype
        if params:
            body["params"] = params
        if multi and role != "leader" and (self.chance(0.6) or not isinstance(default, list) or not default):
            if not inferred_from_var or self.chance(0.3):
                body["multi"] = True
        body.update(node)
        if self.chance(0.12):
            body["mode"] = self.pick(["basic", "standard", "advanced"])
        if mandatory is not None:
            body["mandatory"] = mandatory
        elif self.chance(0.05):
            c = self.condition(anchor, "mandatory", dyn)
            if c is not None:
                body["mandatory"] = c
        if default is not None or (has_default and self.chance(0.3)):
            body["default"] = default
        for prop in ("hidden", "disabled"):
            if self.chance(0.14):
                c = self.condition(anchor, prop, dyn)
                if c is not None and not (role == "leader" and prop == "disabled"):
                    body[prop] = c
                    if prop == "disabled" and c is not False:
                        fragile = True
        if self.chance(0.04):
            body["frozen"] = True
        if self.chance(0.04) and role is None:
            body["auto_save"] = True
        if self.chance(0.12) and vtype != "secret":
            body["validators"] = [self.validator(anchor, parent + [name], multi)]
        if multi and self.chance(0.08):
            body.setdefault("params", {})["multi_length" if self.chance(0.5) else "multi_max_length"] = self.rng.randint(1, 3)
        if not body:
            body = None
        self.vars.append(Var(parent + [name], vtype, multi, nullable=nullable, fragile=fragile,
                             help=help_text, values=values, **info))
        return name, body

    def sample_for(self, vtype, params, node):
        if vtype == "choice":
            chs = getattr(self, "known_choices", None)
            if chs and self.chance(0.95):
                return self.pick(chs)
            return "not_a_choice"
        return self.sample(vtype, params)

    def choices(self, anchor, node):
        self.known_choices = None
        r = self.rng.random()
        if r < 0.6:
            kind = self.pick(["str", "int", "mixed"])
            if kind == "str":
                chs = list(dict.fromkeys(self.pick(["a", "b", "c", "No proxy", "Manual", "\u00e9t\u00e9", "yes"]) for _ in range(3)))
            elif kind == "int":
                chs = list(dict.fromkeys(self.rng.randint(0, 9) for _ in range(3)))
            else:
                chs = ["a", 1, "b"]
            if self.chance(0.1):
                chs.append(None)
            node["choices"] = Flow(chs) if self.chance(0.5) else chs
            self.known_choices = [c for c in chs if c is not None]
        elif r < 0.8:
            ref = self.pick_ref(anchor, want=lambda v: v.multi and v.type in ("string", "integer") and v.role is None)
            if ref:
                node["choices"] = {"variable": ref[1]}
                self.known_choices = ref[0].values
            else:
                node["choices"] = ["a", "b"]
                self.known_choices = ["a", "b"]
        else:
            node["choices"] = self.jinja_calc(self.pick([
                "a\nb\nc\n", "{% for i in range(3) %}\n{{ i }}\n{% endfor %}\n",
                "{% for c in ['x', 'y'] %}{{ c }}\n{% endfor %}",
            ]))
            self.known_choices = None
            jtext = node["choices"]["jinja"]
            jtext = jtext.text if isinstance(jtext, Lit) else jtext
            if self.chance(0.2):
                node["choices"]["return_type"] = "integer" if "range" in jtext else "string"

    def validator(self, anchor, path, multi):
        me = "_." + path[-1]
        if multi:
            cond = self.pick([f"{me} | length > 2", f"'bad' in {me}", f"{me} | length == 0"])
        else:
            cond = self.pick([f"{me} == 'bad'", f"{me} is none", f"{me} is not none and {me} | string | length > 6"])
        if self.chance(0.5):
            c = self.jinja_calc("{{ %s }}" % cond)
            c["return_type"] = "boolean"
            if self.chance(0.5):
                c["description"] = "the value is wrong"
        else:
            c = self.jinja_calc("{%% if %s %%}\nthe value is wrong\n{%% endif %%}\n" % cond)
        if self.chance(0.2):
            c["warnings"] = True
        return c

    # --- families
    def family(self, parent, depth, ctx):
        name = self.new_name("fam")
        path = parent + [name]
        body = {}
        ctx = dict(ctx)
        attrs = {}
        if self.chance(0.3):
            attrs["description"] = self.pick(["A family", "Famille \u00e9t\u00e9", "fam: x"])
        if self.chance(0.15):
            attrs["mode"] = self.pick(["basic", "standard", "advanced"])
        for prop in ("hidden", "disabled"):
            if self.chance(0.12):
                c = self.condition(parent, prop, ctx.get("dyn"))
                if c is not None:
                    attrs[prop] = c
                    if prop == "disabled" and c is not False:
                        ctx["fragile"] = True
        if attrs and self.chance(0.2):
            attrs = {("_" + k if self.chance(0.5) else k): v for k, v in attrs.items()}
        body.update(attrs)
        self.fill(body, path, depth + 1, ctx)
        if not any(k not in attrs for k in body):
            # keep families non-empty
            n, v = self.variable(path, ctx)
            body[n] = v
        self.families.append((path, body, "family", ctx.get("dyn")))
        if not attrs and self.chance(0.5):
            return name, Com(body, self.pick(["A family", "fam comment"]))
        return name, body

    def leadership(self, parent, ctx):
        name = self.new_name("lead")
        path = parent + [name]
        body = {"type": self.pick(["leadership", "leadership", "sequence"])}
        if self.chance(0.3):
            body["description"] = "a leadership"
        if self.chance(0.1):
            c = self.condition(parent, "hidden", ctx.get("dyn"))
            if c is not None:
                body["hidden"] = c
        if self.chance(0.1):
            c = self.condition(parent, "disabled", ctx.get("dyn"))
            if c is not None:
                body["disabled"] = c
                ctx = dict(ctx, fragile=True)
        lctx = dict(ctx, role="leader", lead=path)
        n, v = self.variable(path, lctx)
        if isinstance(v, dict) and "default" not in v and self.chance(0.5):
            v["mandatory"] = False
        body[n] = v
        for _ in range(self.rng.randint(1, 3)):
            n, v = self.variable(path, dict(ctx, role="follower", lead=path))
            body[n] = v
        self.families.append((path, body, "leadership", ctx.get("dyn")))
        return name, body

    def dynamic(self, parent, depth, ctx):
        base = self.new_name("dyn")
        name = self.pick([f"{base}{{{{ identifier }}}}", f"{base}_{{{{ identifier }}}}", f"{{{{ identifier }}}}_{base}"])
        path = parent + [name]
        body = {}
        r = self.rng.random()
        idents = None
        source = None
        if r < 0.4:
            idents = list(dict.fromkeys(self.pick(IDENTS) for _ in range(self.rng.randint(1, 3))))
            idents = list({normalize(i): i for i in idents}.values())
            body["dynamic"] = Flow(idents) if self.chance(0.5) else idents
        elif r < 0.8:
            ref = self.pick_ref(parent, want=lambda v: v.multi and v.type in ("string", "integer") and v.role is None and v.dyn is None)
            if ref is None:
                src = self.new_name("ids")
                idents = list({normalize(i): i for i in (self.pick(IDENTS) for _ in range(self.rng.randint(0, 3)))}.values())
                source = (src, Flow(idents) if idents else {"multi": True, "mandatory": False})
                self.vars.append(Var(parent + [src], "string", True, values=idents, nullable=not idents))
                body["dynamic"] = {"variable": "_." + src}
            else:
                body["dynamic"] = {"variable": ref[1]}
                idents = [str(x) for x in ref[0].values] if ref[0].values and not ref[0].fragile else None
                if ref[0].fragile:
                    body["dynamic"]["propertyerror"] = False
            if self.chance(0.3):
                body["dynamic"] = dict(type="variable", **body["dynamic"])
        else:
            idents = ["a", "b"]
            body["dynamic"] = self.jinja_calc(self.pick([
                "a\nb\n", "{% for i in ['a', 'b'] %}\n{{ i }}\n{% endfor %}\n",
            ]))
        if self.chance(0.4):
            body["description"] = "dynamic {{ identifier }}"
        for prop in ("hidden", "disabled"):
            if self.chance(0.1):
                c = self.condition(parent, prop, ctx.get("dyn"))
                if c is not None:
                    body[prop] = c
                    if prop == "disabled" and c is not False:
                        ctx = dict(ctx, fragile=True)
        dctx = dict(ctx, dyn=(len(path) - 1, idents))
        self.fill(body, path, depth + 1, dctx)
        if source:
            # the identifiers' source variable, written just before the family
            self.pending.append(source)
        self.families.append((path, body, "dynamic", dctx["dyn"]))
        return name, body

    def fill(self, body, path, depth, ctx):
        for _ in range(self.rng.randint(1, 4 if depth < 2 else 2)):
            r = self.rng.random()
            self.pending = []
            if r < 0.12 and depth < 3:
                n, v = self.family(path, depth, ctx)
            elif r < 0.2 and depth < 3:
                n, v = self.leadership(path, ctx)
            elif r < 0.28 and depth < 2 and not ctx.get("dyn"):
                n, v = self.dynamic(path, depth, ctx)
            else:
                n, v = self.variable(path, ctx)
            for pn, pv in self.pending:
                body[pn] = pv
            self.pending = []
            body[n] = v

    # --- a whole dictionary
    def dictionary(self):
        files = []
        root = {"version": self.pick([1.1, "1.1", 1.1])}
        self.pending = []
        self.fill(root, [], 0, {})
        files.append(("00-base.yml", root))
        for idx in range(self.rng.choice([0, 1, 1, 2])):
            files.append((f"{10 * (idx + 1)}-more.yml", self.more()))
        return files

    def more(self):
        """A later file: redefinitions, exists, appended variables."""
        root = {"version": 1.1}
        for _ in range(self.rng.randint(1, 4)):
            r = self.rng.random()
            if r < 0.5 and self.vars:
                v = self.pick(self.vars)
                if v.dyn and v.dyn[0] < len(v.path) - 1 and False:
                    continue
                node = self.locate(root, v.path[:-1])
                if node is None:
                    continue
                red = {}
                mode = self.rng.random()
                if mode < 0.7:
                    red["redefine"] = True
                    if self.chance(0.2):
                        red["exists"] = True
                elif mode < 0.95:
                    red["exists"] = False
                else:
                    red["exists"] = True
                change = self.rng.random()
                if change < 0.3 and v.type != "secret" and v.role != "leader":
                    val = self.pick(v.values) if v.values and self.chance(0.5) else self.sample(v.type)
                    red["default"] = [val] if v.multi else val
                elif change < 0.45:
                    red["hidden"] = self.chance(0.7)
                elif change < 0.55:
                    red["disabled"] = self.chance(0.5) if v.role != "leader" else False
                elif change < 0.7:
                    red["description"] = "redefined"
                elif change < 0.8:
                    red["mandatory"] = False
                elif change < 0.9 and v.role != "leader":
                    self.exclude = v
                    c = self.condition(v.path[:-1], "hidden", v.dyn)
                    self.exclude = None
                    if c is not None:
                        red["hidden"] = c
                else:
                    red["help"] = "new help"
                if v.name in node and isinstance(node[v.name], dict):
                    continue
                node[v.name] = red
            elif r < 0.65:
                # exists on a path that does not exist
                fam = self.pick(self.families)[0] if self.families and self.chance(0.5) else []
                node = self.locate(root, fam)
                if node is None:
                    continue
                n = self.new_name("ghost")
                node[n] = {"exists": self.chance(0.5), "default": "ghost", "description": "ghost"}
                if node[n]["exists"] is True and self.chance(0.5):
                    node[n]["redefine"] = True
            elif r < 0.8 and self.families:
                path, body, kind, dyn = self.pick(self.families)
                node = self.locate(root, path)
                if node is None or kind == "leadership":
                    continue
                n, v = self.variable(path, {"dyn": dyn})
                node[n] = v
            elif self.families:
                path, body, kind, dyn = self.pick(self.families)
                node = self.locate(root, path[:-1])
                if node is None or path[-1] in node:
                    continue
                red = {"redefine": True}
                c = self.condition(path[:-1], self.pick(["hidden", "disabled"]), None)
                if c is None:
                    continue
                red[self.pick(["hidden", "disabled"])] = c
                if kind == "leadership" and "disabled" in red:
                    pass
                node[path[-1]] = red
            else:
                n, v = self.variable([], {})
                root[n] = v
        return root

    @staticmethod
    def locate(root, path):
        node = root
        for seg in path:
            child = node.get(seg)
            if child is None:
                child = {}
                node[seg] = child
            if not isinstance(child, dict) or child.get("redefine") or child.get("exists") is not None:
                return None
            node = child
        return node


def write_case(seed, directory):
    gen = Gen(seed)
    files = gen.dictionary()
    d = os.path.join(directory, "dictionaries")
    os.makedirs(d, exist_ok=True)
    for name, root in files:
        rng = random.Random(f"{seed}-{name}")
        lines = emit(root, 0, rng)
        with open(os.path.join(d, name), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    return d


# ----------------------------------------------------------------------------- runner


def run(cmd, timeout):
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return -1, b"", b"timeout"


def check(seed, args, tools):
    work = tempfile.mkdtemp(prefix=f"fuzz-{seed}-", dir=args.tmp)
    try:
        d = write_case(seed, work)
    except Exception as err:  # a generator bug: report it, go on with the other seeds
        return seed, "gen-error", f"{type(err).__name__}: {err}"
    rrc, rout, rerr = run([tools["py"], tools["tool"], d, "--namespace", "rougail"], 120)
    brc, bout, berr = run([tools["brise"], "show", "--json", "--namespace", "rougail", "--dictionaries", d,
                           "--values", os.path.join(work, "no-values.yml")], 60)
    if rrc != 0 and brc != 0:
        kind = "both-error"
    elif rrc != 0:
        kind = "rougail-only"
    elif brc != 0:
        kind = "brise-only"
    elif rout == bout:
        kind = "same"
    else:
        kind = "diff"
    last = lambda b: (b.decode("utf-8", "replace").strip().splitlines() or [""])[-1][:300]  # noqa: E731
    detail = ""
    if kind in ("rougail-only", "both-error"):
        detail = "rougail: " + last(rerr)
    if kind in ("brise-only", "both-error"):
        detail += (" | " if detail else "") + "brise: " + (berr.decode("utf-8", "replace").strip().splitlines() or [""])[0][:300]
    if kind not in ("same", "both-error") or args.keep_all:
        dest = os.path.join(args.out, kind, str(seed))
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(work, dest)
        for fname, data in (("rougail.json", rout), ("rougail.err", rerr), ("brise.json", bout), ("brise.err", berr)):
            with open(os.path.join(dest, fname), "wb") as f:
                f.write(data)
        if kind == "diff":
            diff = difflib.unified_diff(rout.decode().splitlines(True), bout.decode().splitlines(True), "rougail", "brise")
            with open(os.path.join(dest, "diff"), "w") as f:
                f.writelines(diff)
    shutil.rmtree(work, ignore_errors=True)
    return seed, kind, detail


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1, help="first seed (cases use seed, seed+1, ...)")
    ap.add_argument("--out", default="/tmp/rougail-fuzz")
    ap.add_argument("-j", type=int, default=2, dest="jobs")
    ap.add_argument("--keep-all", action="store_true")
    ap.add_argument("--generate-only", action="store_true", help="write the dictionaries to OUT/gen/SEED only")
    ap.add_argument("--case", type=int, help="run this one seed only")
    args = ap.parse_args()
    seeds = [args.case] if args.case is not None else list(range(args.seed, args.seed + args.count))
    os.makedirs(args.out, exist_ok=True)
    if args.generate_only:
        for s in seeds:
            write_case(s, os.path.join(args.out, "gen", str(s)))
        print(f"rougail-fuzz: {len(seeds)} dictionaries written under {args.out}/gen")
        return 0
    venv = os.environ.get("VENV", "/tmp/rougail-venv")
    shared = os.environ.get("SHARED") or (
        os.path.join(os.path.dirname(ROOT), "shared") if os.path.isdir(os.path.join(os.path.dirname(ROOT), "shared", "tools")) else "/work/shared")
    brise = os.environ.get("BRISE") or os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "debug", "brise")
    if not os.environ.get("BRISE") and not os.path.exists(brise):
        subprocess.run(["cargo", "build", "--quiet", "--bin", "brise"], cwd=ROOT, check=True)
    tools = {"py": os.path.join(venv, "bin", "python"), "tool": os.path.join(shared, "tools", "rougail-flat-json.py"), "brise": brise}
    args.tmp = tempfile.mkdtemp(prefix="rougail-fuzz-")
    counts = {}
    lines = []
    try:
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for seed, kind, detail in pool.map(lambda s: check(s, args, tools), seeds):
                counts[kind] = counts.get(kind, 0) + 1
                lines.append(f"{seed}\t{kind}\t{detail}")
                if kind not in ("same", "both-error"):
                    print(f"{kind:12} seed {seed}  {detail}", flush=True)
    finally:
        shutil.rmtree(args.tmp, ignore_errors=True)
    with open(os.path.join(args.out, "summary.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("rougail-fuzz: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + f" (of {len(seeds)}; cases in {args.out})")
    return 1 if any(k not in ("same", "both-error") for k in counts) else 0


if __name__ == "__main__":
    sys.exit(main())

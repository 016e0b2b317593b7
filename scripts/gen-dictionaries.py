#!/usr/bin/env python3
"""Generate Rougail 1.1 dictionaries of N variables for the dictionary benchmark.

usage: gen-dictionaries.py N OUTDIR [--families-per-file 50]

A realistic mix, deterministic (same N, same files): families of 20 variables
(strings, integers, floats, booleans, choices, ports, IPs, domain names, mail and
web addresses, multis, one leadership of a leader and two followers), 50
families per file, and in every other family 4 of the 20 variables calculated
or conditional (so 10% in all): a `variable` copy from the previous family, a jinja default, a `hidden`
variable condition and a `disabled` jinja condition. Rougail accepts every file
and its values are fully determined, so brise must print the same JSON.
"""
import argparse
import os

FAMILY_SIZE = 20


def family(index):
    """The YAML text of family `index` (20 variables)."""
    f = f"family_{index:05d}"
    prev = f"family_{index - 1:05d}"
    calc = index % 2 == 0
    lines = [
        f"{f}:",
        f"  description: generated family {index}",
        "  name:",
        "    description: a name",
        f"    default: service{index}",
        "  workers:",
        "    description: an integer",
        "    type: integer",
        f"    default: {index % 16 + 1}",
        "  enabled:",
        "    description: a boolean",
        "    type: boolean",
        "  level:",
        "    description: a choice",
        "    choices: [low, medium, high]",
        f"    default: {['low', 'medium', 'high'][index % 3]}",
        "  aliases:",
        "    description: a multi",
        f"    default: [alias{index}a, alias{index}b]",
        "  port:",
        "    description: a port",
        "    type: port",
        f"    default: {1024 + index % 60000}",
        "  domain:",
        "    description: a domain name",
        "    type: domainname",
        f"    default: host{index}.example.net",
        "  comment:",
        "    description: an optional string",
        "    mandatory: false",
        "  backends:",
        "    description: a leadership",
        "    type: leadership",
        "    address:",
        "      description: the leader",
        "      type: ip",
        f"      default: [10.0.{index % 250}.1, 10.0.{index % 250}.2]",
        "    weight:",
        "      description: a follower with a default",
        "      type: integer",
        "      default: 1",
        "    backup:",
        "      description: a follower without a value",
        "      type: boolean",
        "      default: false",
        "  listen:",
        "    description: an IP address",
        "    type: ip",
        f"    default: 192.168.{index % 250}.10",
        "  sizes:",
        "    description: a multi of integers",
        "    type: integer",
        "    multi: true",
        f"    default: [{index % 7}, {index % 7 + 10}]",
    ]
    if calc and index > 0:
        copy_source = f"__.{prev}.name"
    else:
        copy_source = "_.name"
    if calc:
        lines += [
            "  copied:",
            "    description: a variable calculation",
            "    default:",
            f"      variable: {copy_source}",
            "  url:",
            "    description: a jinja calculation",
            "    default:",
            "      jinja: 'http://{{ _.domain }}:{{ _.port }}/{{ _.name }}'",
            "  secret_option:",
            "    description: hidden unless enabled",
            "    default: hidden value",
            "    hidden:",
            "      variable: _.enabled",
            "      when: false",
            "  tuning:",
            "    description: disabled when the level is low",
            "    type: integer",
            "    default: 42",
            "    disabled:",
            "      jinja: |",
            "        {% if _.level == 'low' %}",
            "        the level is low",
            "        {% endif %}",
        ]
    else:
        lines += [
            "  copied:",
            "    description: a plain string",
            "    default: plain",
            "  url:",
            "    description: a web address",
            "    type: web_address",
            f"    default: https://www{index}.example.net/",
            "  secret_option:",
            "    description: a mail address",
            "    type: mail",
            f"    default: admin{index}@example.net",
            "  tuning:",
            "    description: an integer",
            "    type: integer",
            "    default: 42",
        ]
    lines += [
        "  ratio:",
        "    description: a float",
        f"    default: {index % 10}.5",
        "  retries:",
        "    description: an integer with a shorthand default",
        f"    default: {index % 5}",
        "  mode:",
        "    description: a choice without default",
        "    choices: [fast, safe]",
        "    mandatory: false",
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variables", type=int, help="number of variables (a multiple of 20)")
    parser.add_argument("outdir")
    parser.add_argument("--families-per-file", type=int, default=50)
    args = parser.parse_args()
    families = max(1, args.variables // FAMILY_SIZE)
    os.makedirs(args.outdir, exist_ok=True)
    for old in os.listdir(args.outdir):
        if old.endswith(".yml"):
            os.remove(os.path.join(args.outdir, old))
    for start in range(0, families, args.families_per_file):
        name = os.path.join(args.outdir, f"{start // args.families_per_file:03d}-generated.yml")
        with open(name, "w", encoding="utf-8") as out:
            out.write("%YAML 1.2\n---\nversion: 1.1\n\n")
            for index in range(start, min(families, start + args.families_per_file)):
                out.write(family(index))
                out.write("\n")
            out.write("...\n")


if __name__ == "__main__":
    main()

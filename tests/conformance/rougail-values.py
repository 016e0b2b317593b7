#!/usr/bin/env python3
"""Run the reference tool (`rougail-flat-json.py`) with user data really loaded.

The reference tool accepts `--values FILE` and sets `step.user_data`, but
`Rougail(rc).run()` only builds the configuration: user data is applied by
Rougail's CLI (`rougail.cli`), not by `run()`. This wrapper loads the reference
tool unchanged and inserts the missing step, the way `rougail.cli` does it
(`RougailUserDataYaml(config).run()` then `Rougail.user_data(...)`), right after
the configuration is built. Everything else (namespace, extras, read-only view
with `mandatory` lifted, flattening) is the reference tool's own code.

Invalid or unknown user data is an error here (exit 1), so a corpus case can only
use user data that Rougail accepts; the one warning let through is a value given
to a variable Rougail's CLI cannot set because of a property (hidden, disabled,
frozen):
Rougail ignores that value, printed on standard error.

usage: VENV/bin/python rougail-values.py REFERENCE_TOOL DIR... [reference tool options]
"""
import importlib.util
import sys


def main():
    reference = sys.argv[1]
    spec = importlib.util.spec_from_file_location("rougail_flat_json", reference)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)

    class RougailWithUserData(tool.Rougail):
        def run(self, *args, **kwargs):
            config = super().run(*args, **kwargs)
            if "yaml" in (self.rougailconfig["step.user_data"] or []):
                from rougail.user_data_yaml import RougailUserDataYaml

                data = RougailUserDataYaml(config, rougailconfig=self.rougailconfig).run()
                result = self.user_data(
                    data, invalid_user_data_error=False, unknown_user_data_error=False
                )
                errors = [str(e) for e in result["errors"]]
                for warning in result["warnings"]:
                    text = str(warning)
                    # a value given to a hidden, disabled or frozen variable is ignored:
                    # that is a behaviour to test; any other ignored value is refused
                    if "has propery" in text or "has property" in text or "because is frozen" in text:
                        print(f"rougail warning: {text}", file=sys.stderr)
                    else:
                        errors.append(text)
                if errors:
                    for error in errors:
                        print(f"rougail error: {error}", file=sys.stderr)
                    sys.exit(1)
            return config

    tool.Rougail = RougailWithUserData
    sys.argv = [reference] + sys.argv[2:]
    tool.main()


if __name__ == "__main__":
    main()

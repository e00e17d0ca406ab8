#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        # A missing secret outside development is a setup step, not a crash: say what to set.
        sys.exit(
            f"{error}\n"
            "In development use `python3 dev.py manage <command> ...` (or set DEBUG=1); "
            "in production set SECRET_KEY and MASTER_KEY (README, Configuration)."
        )


if __name__ == "__main__":
    main()

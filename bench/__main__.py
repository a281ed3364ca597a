"""``make bench``: run every benchmark against a throw-away test database and print ratios.

The machine is shared and noisy: each benchmark measures its baseline in the same run and reports ratios;
absolute times are printed for context only. Results go to docs/PERFORMANCE.md by hand, with the date.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.test")


def main(argv: list[str]) -> int:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    from bench import api_auth, audit_chain

    connection.settings_dict["TEST"]["NAME"] = "test_pitboss_bench"
    setup_test_environment()  # the test client's host, in-memory e-mail: as in the test suite
    selected = set(argv) or {"api_auth", "audit_chain"}
    old = setup_databases(verbosity=0, interactive=False, keepdb=False)
    try:
        if "api_auth" in selected:
            api_auth.run()
        if "audit_chain" in selected:
            audit_chain.run()
    finally:
        teardown_databases(old, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

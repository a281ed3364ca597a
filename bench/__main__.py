"""``make bench``: run the benchmarks against their own database and print ratios.

The machine is shared and noisy: each benchmark measures its baseline in the same run and reports ratios;
absolute times are printed for context only. Results go to docs/PERFORMANCE.md by hand, with the date.

The database ``pitboss_bench`` (``BENCH_DATABASE``) is kept between runs so the million players are seeded
once (``BENCH_PLAYERS``, default 1,000,000). ``python -m bench NAME ...`` runs some benchmarks only.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.test")
BENCHMARKS = (
    "api_auth",
    "audit_chain",
    "eligibility",
    "admin_changelist",
    "page_budget",
    "kyc_queue",
    "wallet",
    "posting_events",
    "rollups",
    "partition",
    "screening",
    "aml_lag",
    "reports_rollups",
    "reports",
    "aml_backtest",
    "bonus_wagering",
    "crm_segments",
    "crm_campaign",
)


def main(argv: list[str]) -> int:
    import django

    database = os.environ.get("BENCH_DATABASE", "pitboss_bench")
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    call_command("ensure_database", verbosity=0)
    call_command("migrate", verbosity=0, interactive=False)
    setup_test_environment()  # the test client's host, as in the test suite
    selected = [b for b in BENCHMARKS if not argv or b in argv]
    unknown = sorted(set(argv) - set(BENCHMARKS))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    for name in selected:
        module = __import__(f"bench.{name}", fromlist=["run"])
        module.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

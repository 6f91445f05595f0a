"""`make migrate`: every schema of the process catalogue (deploy/catalogue.py) to its heads.

    python -m deploy.local.migrate                 every service with a schema, in the catalogue's order
    python -m deploy.local.migrate campaigns ...   only those named

Reads DATABASE_URL like every process (shared.config.Settings); Alembic runs under the advisory lock
shared.migrations takes, so two runs at once do not race.
"""
from __future__ import annotations

import argparse

from deploy.catalogue import SERVICES_WITH_SCHEMAS


def main(argv: list[str] | None = None) -> None:
    from shared.config import Settings
    from shared.migrations import upgrade

    parser = argparse.ArgumentParser(prog="python -m deploy.local.migrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("services", nargs="*", metavar="SERVICE",
                        help=f"default: all of {', '.join(SERVICES_WITH_SCHEMAS)}")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.services) - set(SERVICES_WITH_SCHEMAS))
    if unknown:
        parser.error(f"no schema for {', '.join(unknown)} (services with one: {', '.join(SERVICES_WITH_SCHEMAS)})")
    for service in args.services or SERVICES_WITH_SCHEMAS:
        upgrade(service, Settings.from_env(f"{service}-migrations"))
        print(f"{service}: migrated to head")


if __name__ == "__main__":
    main()

"""`python -m shared.audit_check --service campaigns [--chain campaign:<id>]`: read a service's audit chains from
its schema and check them (shared.audit.verify_chain). Prints one line per chain, `OK …` or `BROKEN …: entry N:
why`; exits 1 when a chain is broken, 2 when the service has no audit trail. DATABASE_URL names the database."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy import create_engine, inspect

from shared.audit import AuditTables, ChainReport, audit_head_table, audit_table, check_chains
from shared.config import Settings
from shared.db import service_metadata

# The services whose schema keeps an audit trail (docs/audit.md); the others adopt it with their own migration.
AUDITED_SERVICES = ("campaigns", "registrations", "allocation", "notifications")


def tables_of(schema: str) -> AuditTables:
    metadata = service_metadata(schema)
    return AuditTables(audit_table(metadata), audit_head_table(metadata))


def check_service(database_url: str, service: str, chain: str | None = None) -> list[ChainReport]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("audit_entries", schema=service):
                raise LookupError(f"the {service} schema has no audit_entries table")
            return check_chains(connection, tables_of(service), chain)
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.audit_check", description=__doc__.split("\n")[0])
    parser.add_argument("--service", required=True, choices=AUDITED_SERVICES)
    parser.add_argument("--chain", help="one chain only, e.g. campaign:<id> (default: every chain)")
    arguments = parser.parse_args(argv)
    settings = Settings.from_env(f"{arguments.service}-audit-check")
    try:
        reports = check_service(settings.database_url, arguments.service, arguments.chain)
    except LookupError as missing:
        print(f"NO AUDIT TRAIL: {missing}", file=sys.stderr)
        return 2
    if arguments.chain and not reports:
        print(f"NO SUCH CHAIN: {arguments.chain}", file=sys.stderr)
        return 2
    for report in reports:
        print(report.describe())
    broken = [report for report in reports if not report.ok]
    print(f"{len(reports)} chains checked, {len(broken)} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())

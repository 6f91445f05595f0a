"""guichet-verify: recompute a published draw and compare it with the published results.

    guichet-verify BUNDLE.json [--seed HEX]

Exit status 0 when the seed matches its commitment and every result matches, 1 when something
differs (each difference is listed), 2 when the bundle cannot be read.
"""
from __future__ import annotations

import argparse
import json
import sys

from services.allocation.domain import verify_draw


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="guichet-verify", description=__doc__.splitlines()[0])
    parser.add_argument("bundle", help="the draw bundle published by the city (JSON)")
    parser.add_argument("--seed", help="the revealed seed in hexadecimal, if not taken from the bundle")
    arguments = parser.parse_args(argv)
    try:
        with open(arguments.bundle, encoding="utf-8") as file:
            bundle = json.load(file)
        seed = None if arguments.seed is None else bytes.fromhex(arguments.seed)
        differences = verify_draw(bundle, seed)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"cannot verify {arguments.bundle}: {error!r}", file=sys.stderr)
        return 2
    if differences:
        print(f"MISMATCH: {len(differences)} difference(s)")
        for difference in differences:
            print(f"  {difference}")
        return 1
    seed_checked = "the seed matches its commitment and " if bundle.get("seed_commitment") else ""
    print(f"OK: {seed_checked}all {len(bundle['results'])} results match")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""guichet-verify: recompute a published draw and compare it with the published results.

    guichet-verify BUNDLE.json --commitment HEX     the commitment published at the opening
    guichet-verify BUNDLE.json --draw-page URL      read it from the campaign's draw page
                   [--seed HEX] [--line LINE --salt HEX --facts FACTS.json]

The commitment is taken from outside the bundle (the campaign's draw page, GET /draws/{campaign},
or the lottery.seed_committed event, both published at the opening): a bundle redrawn with another
seed and its own new commitment fails. --trust-bundle-commitment checks only the arithmetic.
--line, --salt and --facts check one family's line (its explanation page gives all three).

Exit status 0 when the seed matches the commitment and every result matches, 1 when something
differs (each difference is listed), 2 when the bundle cannot be read or no commitment was given
for a lottery.
"""
from __future__ import annotations

import argparse
import json
import sys
import urllib.request

from services.allocation.domain import check_line, verify_draw

DRAW_PAGE_TIMEOUT_SECONDS = 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="guichet-verify", description=__doc__.splitlines()[0])
    parser.add_argument("bundle", help="the draw bundle published by the city (JSON)")
    parser.add_argument("--seed", help="the revealed seed in hexadecimal, if not taken from the bundle")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--commitment", help="the seed's commitment published at the opening (hexadecimal)")
    source.add_argument("--draw-page", help="the campaign's draw page (…/draws/{campaign}) to read the commitment from")
    source.add_argument("--trust-bundle-commitment", action="store_true",
                        help="check the arithmetic only, against the commitment written in the bundle itself")
    parser.add_argument("--line", help="your line in the bundle (your explanation page gives it)")
    parser.add_argument("--salt", help="your line's salt in hexadecimal (your explanation page gives it)")
    parser.add_argument("--facts", help="a JSON file of your line's facts (your explanation page gives it)")
    arguments = parser.parse_args(argv)
    if (arguments.line, arguments.salt, arguments.facts).count(None) not in (0, 3):
        parser.error("--line, --salt and --facts go together")
    try:
        with open(arguments.bundle, encoding="utf-8") as file:
            bundle = json.load(file)
        seed = None if arguments.seed is None else bytes.fromhex(arguments.seed)
        published = arguments.commitment
        if arguments.draw_page:
            published = _commitment_on(arguments.draw_page)
        lottery = bundle.get("seed_commitment") is not None or seed is not None
        if lottery and published is None and not arguments.trust_bundle_commitment:
            print("cannot verify: give the commitment published at the opening (--commitment or --draw-page); "
                  "the one inside the bundle proves nothing about a redrawn bundle", file=sys.stderr)
            return 2
        differences = verify_draw(bundle, seed, published_commitment=published)
        if arguments.line:
            with open(arguments.facts, encoding="utf-8") as file:
                facts = json.load(file)
            differences += check_line(bundle, arguments.line, bytes.fromhex(arguments.salt), facts)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"cannot verify {arguments.bundle}: {error!r}", file=sys.stderr)
        return 2
    if differences:
        print(f"MISMATCH: {len(differences)} difference(s)")
        for difference in differences:
            print(f"  {difference}")
        return 1
    if not lottery:
        seed_checked = ""
    elif published is not None:
        seed_checked = "the seed matches the commitment published at the opening and "
    else:
        seed_checked = "the seed matches the commitment IN THE BUNDLE (not checked against the opening's) and "
    line_checked = f"; line {arguments.line} matches its facts" if arguments.line else ""
    print(f"OK: {seed_checked}all {len(bundle['results'])} results match{line_checked}")
    return 0


def _commitment_on(url: str) -> str:
    """The `commitment` of a draw page (GET /draws/{campaign})."""
    with urllib.request.urlopen(url, timeout=DRAW_PAGE_TIMEOUT_SECONDS) as response:  # noqa: S310 (the user's URL)
        commitment = json.load(response).get("commitment")
    if not isinstance(commitment, str):
        raise ValueError(f"{url} shows no commitment")
    return commitment


if __name__ == "__main__":
    sys.exit(main())

"""The plain-Python vocabulary more than one service speaks: ages, allocation modes and criteria, broken
rules, Paris time. Standard library only (an import-linter contract holds it), so every service's domain,
and the allocation core that `guichet-verify` runs alone, can use it."""

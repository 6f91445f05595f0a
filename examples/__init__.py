"""Reference consumers for downstream teams, outside the product: not shipped in the wheel, never imported
by services/ or shared/ (docs/architecture.md)."""

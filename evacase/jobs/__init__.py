"""Background work that runs inside `evacase serve` (one process at a time across instances)."""

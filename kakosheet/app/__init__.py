"""Use cases: each command of the CLI is one function here."""

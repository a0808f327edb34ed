"""Personal access tokens for the JSON API (SPEC §4.2): random, stored hashed, shown once."""

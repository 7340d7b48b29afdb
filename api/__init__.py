"""HTTP API, CLI wiring."""

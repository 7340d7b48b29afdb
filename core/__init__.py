"""Settings, database plumbing and the domain error tree. Imports nothing else of ours."""

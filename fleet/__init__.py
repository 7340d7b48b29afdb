"""Vehicles, travel modes and emission factors. Imports nothing of ours but ``core``."""

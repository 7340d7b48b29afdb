"""Vehicles, travel modes and emission factors. Imports nothing else of ours."""

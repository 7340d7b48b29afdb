"""Vehicles, modes, emission factors; later bookings and trips. Imports nothing of ours but core."""

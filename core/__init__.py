"""Settings and infrastructure shared by every package."""

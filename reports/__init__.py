"""Sustainability reports: the trip log, paperless steps and factors turned into figures
a funder accepts (JSON, German CSV, PDF with charts).

``reports`` sits beside ``calendars`` above ``scheduler``: it reads fleet's trips and
vehicles, scheduler's published tours and core's paperless steps, and writes nothing.
"""

"""Households, caseworkers, visits and the weekly planner."""

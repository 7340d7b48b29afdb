"""Subscribable iCalendar feeds of appointments and bookings."""

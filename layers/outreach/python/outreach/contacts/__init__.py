"""Contacts, CSV import and the opt-out list."""

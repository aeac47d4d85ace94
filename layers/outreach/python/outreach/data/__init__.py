"""Persistence: the PynamoDB models (one per table) and their binding to a table prefix."""

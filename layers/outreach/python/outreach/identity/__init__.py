"""Identity: organizations, users, roles, passwords and tokens."""

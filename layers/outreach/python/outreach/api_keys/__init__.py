"""API keys: long-lived, revocable server credentials of an organization."""

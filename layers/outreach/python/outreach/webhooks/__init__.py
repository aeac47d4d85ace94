"""Webhooks: an organization's endpoints, and the signed, retried delivery of its events."""

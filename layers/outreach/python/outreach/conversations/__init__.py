"""Conversations: the texts an organization exchanges with each number, and its inbox."""

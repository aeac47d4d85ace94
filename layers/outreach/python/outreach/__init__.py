"""Outreach: the first-party package shared by every Lambda function (the layer)."""

__version__ = "0.1.0"

"""Campaigns: message templates, SMS length, and the campaign rules."""

"""Inbound texts: classifying what a recipient replied (opt-out, opt-in, help or reply)."""

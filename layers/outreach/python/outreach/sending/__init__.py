"""The sending engine: dispatch (scheduled fan-out) and send. Never imports FastAPI."""

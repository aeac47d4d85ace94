"""The local stack: the whole API on one port over an embedded DynamoDB. Never deployed."""

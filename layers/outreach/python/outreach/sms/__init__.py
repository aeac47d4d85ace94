"""SMS providers behind one interface: sandbox (outbox table), SNS, End User Messaging."""

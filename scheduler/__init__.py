"""Timed jobs. They change rows through the unit of work and never talk to a platform:
anything for a person goes through the outbox."""

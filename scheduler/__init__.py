"""Reminders, digests and the outbox dispatcher."""

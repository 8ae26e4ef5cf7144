"""Outbound mail: the outbox table, its templates and the SMTP worker that drains it."""

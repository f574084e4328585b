"""Reminder rules and the sweep that turns what is due into outbox rows."""

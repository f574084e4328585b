"""Intake and delivery: inbox, outbox, file requests, the shared pace, leases, housekeeping."""

"""Village status derived from the records, tallies, digests and the dashboard's reads."""

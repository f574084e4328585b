"""Photos sent with reports, stored in the database."""

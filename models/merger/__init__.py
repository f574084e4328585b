"""The merger rules (head and branch secretary as one person) and what staff record for them."""

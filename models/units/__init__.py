"""Administrative units: import, the closure tree, look-ups, scope, mergers and splits."""

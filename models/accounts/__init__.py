"""People, channel accounts, invites, dashboard logins, passwords and throttles."""

"""Demo data: real units, generated villages, reports that tell the campaign's story, demo logins."""

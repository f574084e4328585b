"""The giao ban loop: schedules, meetings, situation reports, packs, conclusions and tasks."""

"""Conversation state, stored so that a restart or a second worker strands nobody."""

"""Assisted judging with language-model roles: items, roles, judge, protocols and their runner."""

"""Placeholder."""
REQUIRED_ATTRS = ()

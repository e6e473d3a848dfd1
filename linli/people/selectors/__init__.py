"""Reads of the people app, always scoped to the user; import from the sub-modules."""

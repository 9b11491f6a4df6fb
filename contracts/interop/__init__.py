"""Zoom's official SDK as a client of the target."""

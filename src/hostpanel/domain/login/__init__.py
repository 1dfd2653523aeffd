"""Signing in to the web interface: password, then a two-factor code; re-authentication for sensitive changes."""

"""Hosting accounts: identity, password, domains, features and status."""

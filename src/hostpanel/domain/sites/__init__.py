"""Websites: every domain of an account served by nginx from a document root inside the account's home."""

"""hostpanel: a self-hosted web-hosting control panel built around cPanel-compatible API tokens."""

__version__ = "0.1.0"

"""The web interface: server-rendered pages for the account owner (sign-in and the Security section)."""

"""Two-factor authentication: TOTP codes (RFC 6238) and single-use recovery codes."""

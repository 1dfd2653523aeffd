"""UAPI `TwoFactorAuth`: cPanel's functions to set up, review and remove TOTP two-factor authentication."""

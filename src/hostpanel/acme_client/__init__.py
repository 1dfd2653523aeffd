"""AutoSSL's ACME client: certbot's `acme` library against the configured directory (Let's Encrypt by default)."""

"""The domain: accounts, tokens, permissions and the audit trail, free of HTTP, SQL and UI concerns."""

"""The HTTP API: the cPanel-UAPI-compatible dispatcher, authentication and the OpenAPI description."""

"""The HTTP API: the dialects (UAPI; its endpoint over the function gate), authentication, leak reports and the
OpenAPI description."""

"""API tokens: the wire format, the stored record, and the service that issues and checks them."""

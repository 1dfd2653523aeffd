"""What the API dialects and the web interface both need from HTTP: bounded bodies and arguments, file responses,
multipart uploads, the client's address, response hardening. It knows neither of them."""

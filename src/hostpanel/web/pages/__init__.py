"""Page handlers, one module per part of the interface; each is thin and calls the domain services."""

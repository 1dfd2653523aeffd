"""Repositories: the domain's storage ports implemented with SQLAlchemy Core."""

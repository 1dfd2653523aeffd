"""UAPI `Fileman`."""

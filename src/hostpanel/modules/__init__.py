"""Feature modules: each exposes its UAPI functions (and, where it has them, its own domain logic)."""

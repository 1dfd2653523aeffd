"""UAPI: `/execute/<Module>/<function>` with cPanel's arguments, envelope and list conventions."""

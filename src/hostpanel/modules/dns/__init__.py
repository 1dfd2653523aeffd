"""UAPI `DNS`: the zone as cPanel parses it, and batch edits against its serial."""

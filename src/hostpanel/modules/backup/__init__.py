"""UAPI `Backup`: full backups into the home, their progress, and restores."""

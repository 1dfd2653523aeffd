"""Full account backups into the home (streamed .tar.gz with a SHA-256 manifest) and verified restores."""

"""UAPI `Email`: mailboxes and forwarders."""

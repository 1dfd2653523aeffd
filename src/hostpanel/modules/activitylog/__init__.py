"""UAPI `ActivityLog` (ours): the account's audit trail."""

"""UAPI `SSL` and cPanel API 2 `SSL`: installing, listing and deleting the certificates of the account's sites."""

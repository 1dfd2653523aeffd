"""Certificates of the account's sites: validation, the stored record, installation and AutoSSL's rules."""

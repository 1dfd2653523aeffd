"""UAPI `DomainInfo`: the account's domains."""

"""cPanel API 2 `CustInfo`: the account's contact details (the probe ACME clients make first)."""

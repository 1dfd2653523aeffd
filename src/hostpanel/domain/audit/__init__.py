"""The append-only record of what happened to an account: logins, token use and changes."""

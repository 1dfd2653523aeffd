"""Email: mailboxes (Maildir + Dovecot passwd-file) and forwarders (a virtual alias map), on the account's domains."""

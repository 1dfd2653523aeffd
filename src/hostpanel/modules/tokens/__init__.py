"""UAPI `Tokens`: cPanel's create_full_access, list, rename and revoke, plus our `create` with scopes."""

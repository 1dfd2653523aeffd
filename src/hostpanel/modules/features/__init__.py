"""UAPI `Features`: which features the account has, as cPanel reports them."""

"""cPanel API 2 `ZoneEdit`: the zones and their records by line, as acme.sh and certbot-dns-cpanel use them."""

"""DNS zones: records, the zone file with its line numbers and serial, and the zone editor's service."""

"""Web sign-in sessions: records in the database, found by a keyed digest of the cookie's secret."""

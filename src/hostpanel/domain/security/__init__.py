"""Holding up under attack: login lockouts, trusted networks, request rate limits and owner notifications."""

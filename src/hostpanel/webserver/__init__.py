"""nginx as the panel runs it: its configuration written from the database, checked, served and confirmed."""

"""Django's SQLite backend with the statement conversion cached (see `base`)."""

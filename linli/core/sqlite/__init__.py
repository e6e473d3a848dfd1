"""The embedded database backend (SQLite with a writer gate); see ``base``."""

# Django's SQLite engine and ours (``ENGINE`` values that name a SQLite database).
SQLITE_ENGINES = frozenset({"django.db.backends.sqlite3", "linli.core.sqlite"})

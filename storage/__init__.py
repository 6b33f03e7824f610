"""SQLite storage: schema and migrations, the journal, loading and committing engine state."""

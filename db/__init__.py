"""The database layer: SQLAlchemy 2 models, sessions, repositories and the unit of work."""

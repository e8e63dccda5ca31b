"""SQLModel tables, the engine factory, the unit of work, queries and Alembic migrations."""

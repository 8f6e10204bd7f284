"""Persistence: models, sessions, repositories, migrations, plan import and export."""

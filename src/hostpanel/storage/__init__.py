"""Storage: SQLAlchemy tables, repositories implementing the domain's ports, migrations, and account homes."""

"""The catalog: the database that is the truth about what was recorded, and when."""

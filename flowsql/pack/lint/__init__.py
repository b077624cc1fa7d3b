"""The lint gate: sqlfluff and flowsql's rule FS01 on rendered SQL, and the sqlfluff plugin."""

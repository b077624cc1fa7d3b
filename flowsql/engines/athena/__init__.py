"""The Athena engine: the tables and workgroup `flowsql setup` made, and their settings."""

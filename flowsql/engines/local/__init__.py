"""The local engine: DuckDB over an AWSLogs/ tree on disk (and `flowsql convert`)."""

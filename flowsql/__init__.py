"""flowsql: AWS VPC Flow Logs as evidence — canned, linted SQL on Athena or a local DuckDB."""

__version__ = "0.1.0"

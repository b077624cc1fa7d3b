"""`flowsql diagnose`: why SRC does not reach DST, from the records and from the configuration."""

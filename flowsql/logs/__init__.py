"""Flow logs: the fields of a record, the layouts of their files, the window of days."""

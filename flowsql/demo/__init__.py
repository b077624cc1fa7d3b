"""`flowsql demo` and the generated flow logs, inventory and posture snapshot tests and bench share."""

"""The names flowsql gives what it creates in an AWS account, unless told otherwise (`flowsql setup`'s
options, the IAM policy's defaults, `flowsql schedule`'s names)."""

DATABASE = "flowsql"  # the Glue database
WORKGROUP = "flowsql"  # the Athena workgroup
TABLE = "vpc_flow_logs"  # the first flow-log table; further ones get _2, _3, …
# every schedule name flowsql installs starts with it: `schedule list|remove` touch nothing else, and the
# IAM policy grants the EventBridge target's roles by it
SCHEDULE_PREFIX = "flowsql-report"

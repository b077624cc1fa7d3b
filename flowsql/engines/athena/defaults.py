"""The names flowsql gives what `flowsql setup` makes in an account when it is told none: the Glue
database, the Athena workgroup, the first flow-log table, the query results bucket. The saved
settings (config.py), setup (flowsql.account.provision), the IAM policy and the CLI's defaults
all read them here; the settings `setup` saves record the names it actually used."""

DATABASE = "flowsql"
WORKGROUP = "flowsql"
TABLE = "vpc_flow_logs"  # further flow-log tables get _2, _3, …
TGW_TABLE = "tgw_flow_logs"  # Transit Gateway flow logs' tables, likewise
RESULTS_BUCKET = "flowsql-results-{account}-{region}"  # str.format(account=…, region=…)
# every schedule flowsql installs is named with it (cron lines, systemd units, workflows, EventBridge's schedule,
# CodeBuild project and roles): `schedule list|remove` touch nothing else, and the IAM policy grants by it
SCHEDULE_PREFIX = "flowsql-report"

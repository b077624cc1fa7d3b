"""Documents written as the AWS CLI prints them (`aws ec2 describe-… --output json`), so that a file
`inventory sync` writes and one a user saved from the CLI read back the same."""

from __future__ import annotations

from ..files import dumps_json


def cli_operation(operation: str) -> str:
    """`describe_flow_logs` -> `DescribeFlowLogs`, as IAM and the AWS CLI name a boto3 operation."""
    return "".join(w.capitalize() for w in operation.split("_"))


def cli_default(value):
    # The AWS CLI prints timestamps as ISO 8601 (its default cli_timestamp_format).
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def write_cli_json(tree, name: str, key: str, items) -> int:
    """Write {"key": [items…]} exactly as `json.dumps(doc, indent=4)` would, one item at a time."""
    n = 0
    with tree.writer(name) as f:
        f.write("{\n    " + dumps_json(key) + ": [")
        for item in items:
            text = dumps_json(item, what=str(tree.path(name)), indent=4, ensure_ascii=False, default=cli_default)
            f.write(("\n" if n == 0 else ",\n") + "\n".join("        " + line for line in text.split("\n")))
            n += 1
        f.write("\n    ]\n}\n" if n else "]\n}\n")
    return n

"""Exceptions the library raises; the CLI maps them to exit codes."""


class FlowsqlError(Exception):
    """Base class. `exit_code` is what the CLI exits with."""

    exit_code = 1


class UsageError(FlowsqlError):
    """Bad input from the user: an unknown query, a malformed parameter, a reversed window."""

    exit_code = 2


class FormatError(UsageError):
    """A log format or header that names unknown fields."""


class ParameterError(UsageError):
    pass


class RenderError(FlowsqlError):
    """A template that cannot render safely (a defect in the pack, not in the input)."""


class LintError(FlowsqlError):
    """A rendered query has lint findings; it carries them."""

    def __init__(self, findings):
        self.findings = findings
        super().__init__(f"{len(findings)} lint finding(s)")


class SourceError(UsageError):
    """A missing or unreadable local source."""


class DataError(FlowsqlError):
    """A corrupt or unreadable log file."""


class QueryError(FlowsqlError):
    """A query that the engine ran and that failed."""


class AwsError(FlowsqlError):
    """An AWS call that failed for a reason the user must fix (missing bucket, no permission)."""

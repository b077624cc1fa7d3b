"""AWS access the way the AWS CLI does it, and AWS failures as one-line errors (`AwsError`, or
`UsageError` where the user's input is at fault).

Credentials, profile and region come from boto3's default chain (`--profile`, `AWS_PROFILE`,
`--region`, `AWS_REGION`/`AWS_DEFAULT_REGION`, `~/.aws/config`). `AWS_ENDPOINT_URL` (and the
per-service `AWS_ENDPOINT_URL_<SERVICE>`) is honoured by botocore itself, which is how the tests
reach their moto server; nothing here special-cases it.

boto3 is imported inside functions: the CLI imports this module at start-up and must stay fast.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from .errors import AwsError, FlowsqlError, UsageError

# Throttling (and 5xx) are retried by botocore with exponential backoff and jitter. "standard"
# rather than "adaptive": adaptive also rate-limits the client, which only helps long-lived
# processes hammering one API; flowsql makes short bursts of calls.
RETRIES = {"mode": "standard", "total_max_attempts": 8}
USER_AGENT = "flowsql"

ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
                 "UnrecognizedClientException", "InvalidClientTokenId", "SignatureDoesNotMatch"}
EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}
THROTTLED = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
             "SlowDown"}


def client_config():
    """The botocore Config every flowsql client uses (retries, user agent)."""
    from botocore.config import Config

    return Config(retries=dict(RETRIES), user_agent_extra=USER_AGENT)


def make_session(profile: str | None = None, region: str | None = None):
    """A boto3 Session from the default chain; `profile`/`region` override it as the CLI flags do."""
    import boto3
    import botocore.exceptions as bx

    try:
        session = boto3.Session(profile_name=profile or None, region_name=region or None)
    except bx.ProfileNotFound as e:
        # A usage error (exit 2): the profile named by --profile or AWS_PROFILE is not configured.
        raise UsageError(f"AWS profile {e.kwargs.get('profile') or profile!r} not found in the AWS "
                         "config files") from None
    if not session.region_name:
        raise UsageError("no AWS region: pass --region or set AWS_REGION (or a region in the AWS profile)")
    return session


def errors() -> tuple[type[BaseException], ...]:
    """Every exception a botocore call can raise for a failed call. ResponseParserError (an
    endpoint's unparsable answer) is no BotoCoreError, so `except BotoCoreError` alone misses it."""
    import botocore.exceptions as bx
    from botocore.parsers import ResponseParserError

    return (bx.BotoCoreError, bx.ClientError, ResponseParserError)


def partition_for_region(region: str) -> str:
    """The ARN partition of a region (`aws`, `aws-cn`, `aws-us-gov`, …), from botocore's endpoint
    data alone: no credentials or profile needed (iam-policy runs anywhere)."""
    from botocore.exceptions import UnknownRegionError
    from botocore.loaders import create_loader
    from botocore.regions import EndpointResolver

    try:
        return EndpointResolver(create_loader().load_data("endpoints")).get_partition_for_region(region)
    except UnknownRegionError:  # a region newer than this botocore: the commercial partition
        return "aws"


@dataclass
class Aws:
    """A session plus lazily made clients, the account and the region: what every AWS step takes."""

    session: Any
    # The profile given explicitly (--profile), else None: only that is worth remembering for
    # later runs; one that came from AWS_PROFILE or the default chain is found there again.
    profile: str | None = None
    _clients: dict = field(default_factory=dict, repr=False)
    _account: str | None = field(default=None, repr=False)
    _region: str | None = field(default=None, repr=False)  # another region than the session's (`at`)

    @classmethod
    def connect(cls, profile: str | None = None, region: str | None = None) -> "Aws":
        return cls(make_session(profile, region), profile=profile or None)

    @property
    def region(self) -> str:
        return self._region or self.session.region_name

    def at(self, region: str, account: str | None = None) -> "Aws":
        """The same session's credentials in another region (one session for many regions: a new
        boto3 Session per region would load botocore's data again each time)."""
        return Aws(self.session, profile=self.profile, _account=account or self._account, _region=region)

    def client(self, service: str, region: str | None = None):
        key = (service, region or self.region)
        if key not in self._clients:
            self._clients[key] = self.session.client(service, region_name=key[1], config=client_config())
        return self._clients[key]

    @property
    def account(self) -> str:
        """The caller's account id (STS GetCallerIdentity needs no permission)."""
        if self._account is None:
            with aws_errors("finding the AWS account (sts:GetCallerIdentity)"):
                self._account = self.client("sts").get_caller_identity()["Account"]
        return self._account


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return (response.get("Error") or {}).get("Code")
    return None


def map_error(exc: BaseException, action: str) -> FlowsqlError:
    """Turn a botocore/boto3 exception into one clear line saying what failed and what to do:
    an AwsError, or a UsageError (exit 2) where the input is at fault (a missing profile or
    region, a value the API's parameter validation refuses)."""
    import botocore.exceptions as bx
    from botocore.parsers import ResponseParserError

    if isinstance(exc, FlowsqlError):
        return exc
    if isinstance(exc, bx.NoCredentialsError):
        return AwsError(f"{action}: no AWS credentials found; run `aws configure`, set AWS_PROFILE "
                        "or pass --profile")
    if isinstance(exc, bx.PartialCredentialsError):
        return AwsError(f"{action}: incomplete AWS credentials ({_one_line(str(exc))})")
    if isinstance(exc, bx.NoRegionError):
        return UsageError(f"{action}: no AWS region: pass --region or set AWS_REGION")
    if isinstance(exc, bx.ProfileNotFound):
        return UsageError(f"{action}: {_one_line(str(exc))}")
    if isinstance(exc, bx.ParamValidationError):  # botocore's message spans lines: one per problem
        return UsageError(f"{action}: invalid value: {_one_line(str(exc))}")
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError)):
        return AwsError(f"{action}: cannot reach the AWS endpoint ({_one_line(str(exc))}); check the network, "
                        "the region and AWS_ENDPOINT_URL")
    if isinstance(exc, bx.ClientError):
        code = error_code(exc) or "Error"
        message = _one_line((exc.response.get("Error") or {}).get("Message") or "")
        op = getattr(exc, "operation_name", "")
        if code in ACCESS_DENIED or code == "403":
            return AwsError(f"{action}: access denied ({op}){': ' + message if message else ''}; "
                            "see `flowsql iam-policy` for the permissions flowsql needs")
        if code in EXPIRED:
            return AwsError(f"{action}: the AWS credentials have expired; refresh them (e.g. `aws sso login`)")
        if code in ("NoSuchBucket", "404") and op in ("HeadBucket", "ListObjectsV2", "GetObject", "HeadObject",
                                                       "GetBucketLocation", "PutObject"):
            return AwsError(f"{action}: the bucket does not exist{' (' + message + ')' if message else ''}")
        if code in THROTTLED:
            return AwsError(f"{action}: AWS throttled the request even after retries ({op}); try again later")
        return AwsError(f"{action}: {code}{' (' + op + ')' if op else ''}: {message}".rstrip(": "))
    if isinstance(exc, ResponseParserError):
        return AwsError(f"{action}: unreadable response from the AWS endpoint; check AWS_ENDPOINT_URL "
                        "and any proxy in between")
    return AwsError(f"{action}: {_one_line(str(exc))}")


def _one_line(message: str, limit: int = 300) -> str:
    """An AWS error message fit for one line (a proxy or endpoint may answer with an HTML page)."""
    if message.lstrip().startswith("<"):
        return "unexpected response from the endpoint"
    message = " ".join(message.split())
    return message if len(message) <= limit else message[: limit - 3] + "..."


@contextlib.contextmanager
def aws_errors(action: str) -> Iterator[None]:
    """Run AWS calls; any botocore failure becomes a one-line error (see `map_error`) starting with
    `action`."""
    try:
        yield
    except errors() as e:
        raise map_error(e, action) from None


def is_code(exc: BaseException, *codes: str) -> bool:
    return error_code(exc) in codes


# Lenient on purpose (legacy us-east-1 buckets may hold upper case and `_`): it only catches what
# can never be a bucket, before any AWS call.
_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$")


def split_s3_uri(uri: str, what: str = "location") -> tuple[str, str]:
    """`s3://bucket/key/prefix` -> (bucket, key/prefix); a UsageError for anything else, as the
    URIs come from the user (`--results`) or a config file they may edit. `what` names it."""
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise UsageError(f"{what} must be an s3://bucket/prefix/ URI, not {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    if not _BUCKET.match(bucket):
        raise UsageError(f"{what} {uri!r}: {'no bucket' if not bucket else 'not a bucket name: ' + repr(bucket)}")
    if "//" in key:
        raise UsageError(f"{what} {uri!r}: empty folder name (//)")
    return bucket, key

"""AWS access the way the AWS CLI does it, and AWS failures as one-line `AwsError`s.

Credentials, profile and region come from boto3's default chain (`--profile`, `AWS_PROFILE`,
`--region`, `AWS_REGION`/`AWS_DEFAULT_REGION`, `~/.aws/config`). `AWS_ENDPOINT_URL` (and the
per-service `AWS_ENDPOINT_URL_<SERVICE>`) is honoured by botocore itself, which is how the tests
reach their moto server; nothing here special-cases it.

boto3 is imported inside functions: the CLI imports this module at start-up and must stay fast.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Iterator

from .errors import AwsError

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
    except bx.ProfileNotFound:
        raise AwsError(f"AWS profile {profile!r} not found in the AWS config files") from None
    if not session.region_name:
        raise AwsError("no AWS region: pass --region or set AWS_REGION (or a region in the AWS profile)")
    return session


@dataclass
class Aws:
    """A session plus lazily made clients, the account and the region: what every AWS step takes."""

    session: Any
    _clients: dict = field(default_factory=dict, repr=False)
    _account: str | None = field(default=None, repr=False)

    @classmethod
    def connect(cls, profile: str | None = None, region: str | None = None) -> "Aws":
        return cls(make_session(profile, region))

    @property
    def region(self) -> str:
        return self.session.region_name

    @property
    def profile(self) -> str | None:
        name = self.session.profile_name
        return None if name == "default" else name

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

    @property
    def partition(self) -> str:
        return self.session.get_partition_for_region(self.region)


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return (response.get("Error") or {}).get("Code")
    return None


def translate(exc: BaseException, action: str) -> AwsError:
    """Turn a botocore/boto3 exception into one clear line saying what failed and what to do."""
    import botocore.exceptions as bx

    if isinstance(exc, AwsError):
        return exc
    if isinstance(exc, bx.NoCredentialsError):
        return AwsError(f"{action}: no AWS credentials found; run `aws configure`, set AWS_PROFILE "
                        "or pass --profile")
    if isinstance(exc, bx.PartialCredentialsError):
        return AwsError(f"{action}: incomplete AWS credentials ({exc})")
    if isinstance(exc, bx.NoRegionError):
        return AwsError(f"{action}: no AWS region: pass --region or set AWS_REGION")
    if isinstance(exc, bx.ProfileNotFound):
        return AwsError(f"{action}: {exc}")
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError)):
        return AwsError(f"{action}: cannot reach the AWS endpoint ({exc}); check the network, the "
                        "region and AWS_ENDPOINT_URL")
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
    if isinstance(exc, bx.BotoCoreError):
        return AwsError(f"{action}: {exc}")
    return AwsError(f"{action}: {exc}")


def _one_line(message: str, limit: int = 300) -> str:
    """An AWS error message fit for one line (a proxy or endpoint may answer with an HTML page)."""
    if message.lstrip().startswith("<"):
        return "unexpected response from the endpoint"
    message = " ".join(message.split())
    return message if len(message) <= limit else message[: limit - 3] + "..."


@contextlib.contextmanager
def aws_errors(action: str) -> Iterator[None]:
    """Run AWS calls; any botocore failure becomes an AwsError whose line starts with `action`."""
    import botocore.exceptions as bx

    try:
        yield
    except (bx.BotoCoreError, bx.ClientError) as e:
        raise translate(e, action) from None


def is_code(exc: BaseException, *codes: str) -> bool:
    return error_code(exc) in codes


def s3_uri(bucket: str, key: str = "") -> str:
    return f"s3://{bucket}/{key}"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key/prefix` -> (bucket, key/prefix)."""
    if not uri.startswith("s3://"):
        raise AwsError(f"not an s3:// location: {uri}")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise AwsError(f"no bucket in {uri}")
    return bucket, key

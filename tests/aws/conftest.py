"""AWS tests run against a moto server on 127.0.0.1, reached through AWS_ENDPOINT_URL.

The server is started once per session and reset before every test. The environment points
boto3 (and pyathena) at it with fake credentials; nothing of flowsql is patched. A small proxy
(`faultproxy.py`) can sit in front of the server for what moto cannot do: failed and throttled Athena
calls, and EC2 describe calls that honour MaxResults.
"""

from __future__ import annotations

import json
import os
import urllib.request

import pytest
from awsfixtures import REGION

_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_CONFIG_FILE": "/nonexistent/flowsql-tests/config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/flowsql-tests/credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
}
_UNSET = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory):
    """Start the moto server and point the process's AWS environment at it (restored afterwards)."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = {k: os.environ.get(k) for k in (*_ENV, *_UNSET, "AWS_ENDPOINT_URL", "FLOWSQL_CONFIG")}
    os.environ.update(_ENV)
    for k in _UNSET:
        os.environ.pop(k, None)
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    os.environ["FLOWSQL_CONFIG"] = str(tmp_path_factory.mktemp("cfg") / "config.json")
    try:
        yield endpoint
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.stop()


def moto_api(endpoint: str, path: str, payload: dict | None = None) -> None:
    req = urllib.request.Request(f"{endpoint}/moto-api/{path}", method="POST",
                                 data=json.dumps(payload or {}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status in (200, 201), resp.status


@pytest.fixture(autouse=True)
def moto(moto_endpoint):
    """A clean moto for each test (all backends reset). tests/conftest.py isolates the config file."""
    moto_api(moto_endpoint, "reset")
    yield moto_endpoint


@pytest.fixture
def boto(moto):
    """Plain boto3 clients for arranging fixtures and checking results."""
    import boto3

    class Clients:
        def __getattr__(self, service):
            client = boto3.client(service, region_name=REGION)
            setattr(self, service, client)
            return client

    return Clients()


@pytest.fixture
def aws(moto):
    from flowsql.aws import Aws

    return Aws.connect()


@pytest.fixture
def proxy(moto):
    """A fault-injecting proxy in front of moto; AWS_ENDPOINT_URL points at it during the test."""
    from faultproxy import FaultProxy

    p = FaultProxy(moto)
    p.start()
    os.environ["AWS_ENDPOINT_URL"] = p.url
    try:
        yield p
    finally:
        os.environ["AWS_ENDPOINT_URL"] = moto
        p.stop()

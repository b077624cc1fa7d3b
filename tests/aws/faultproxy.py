"""An HTTP proxy in front of the moto server that adds what moto cannot do.

- `fail_queries[marker] = reason`: GetQueryExecution of a query whose SQL contains `marker`
  reports FAILED with that StateChangeReason (moto's queries always succeed).
- `scanned[marker] = n`: GetQueryExecution reports n bytes scanned (moto reports 0).
- `throttle[operation] = n`: the next n calls of that operation get a throttling error.
- `paginate = True`: EC2 DescribeNetworkInterfaces/Subnets/Vpcs/SecurityGroups/NetworkAcls/RouteTables
  honour MaxResults/NextToken (moto returns everything in one page).
- Flow logs to S3 as EC2 has them: a LogDestination with a key prefix (moto takes
  `bucket/prefix` for a bucket name and refuses it) and DestinationOptions (moto drops them) are
  kept by the proxy and put back into DescribeFlowLogs.
- `fail_next[call] = [(status, code, message), …]`: the next calls of `call` (a JSON operation's
  name, or `METHOD /path` for a REST API such as EventBridge Scheduler) get these AWS errors, in
  order (an IAM role AWS has not yet spread, say).
- `garble[operation] = n`: the next n calls of that operation get a 200 whose body is not XML/JSON.
- UpdateWorkGroup (moto lacks it) is answered by the proxy: its parameters are recorded in
  `workgroup_updates` and applied to the moto server's Athena backend (same process), as Athena
  would apply them.
- CodeBuild as AWS documents it: CreateProject with a NO_SOURCE source and no location (moto
  requires one; the proxy adds a placeholder on the way in and takes it out of BatchGetProjects),
  and UpdateProject (moto lacks it), answered by the proxy: recorded in `project_updates` and
  applied to the moto server's CodeBuild backend (same process).
- `deny = {"BUCKET?SUBRESOURCE", …}`: S3 requests on that bucket's subresource (`lifecycle`,
  `encryption`, `publicAccessBlock`) get 403 AccessDenied, as a bucket policy would answer; an EC2
  operation's name there (`DescribeFlowLogs`) gets UnauthorizedOperation, as IAM would answer, and
  `OPERATION@REGION` (`DescribeVpcs@eu-west-1`) only in that region (from the request's SigV4 scope),
  as an SCP denying a region would. `deny_roles = {role ARN, …}`: sts:AssumeRole of that role gets
  AccessDenied (moto lets any role be assumed, existing or not).
- CloudWatch Logs and S3 for `flowsql pull`: `logs_page_size = n` makes FilterLogEvents answer at
  most n events a page (a `limit` added to requests that have none: moto answers 10,000, AWS pages
  by 1 MB too); `throttle_paged[operation] = n` throttles the next n calls of that operation that
  carry a `nextToken` (a throttle in the middle of a pagination); `json_requests` records every
  JSON-protocol call as (operation, request body). `delay[text] = seconds` holds back every request
  whose path contains `text`; `corrupt[text] = n` flips one byte of the next n S3 object bodies whose
  path contains `text` (same length, as a bad disk or network would); `cut[text] = n` sends the full
  Content-Length but only half the body of the next n, then closes the connection. An S3 request's
  `fail_next` error is answered in S3's XML.
- `calls`: every operation that went through, in order (CBOR-protocol calls, e.g. CloudWatch's, by
  the operation their path names); `requests`: the same as (service,
  operation, method, path?query), the service from the request's SigV4 credential scope (for
  mapping S3's REST calls to IAM actions), and `bodies` their bodies (the resources a call names).
- A retry is not a call: botocore sends every attempt of one API call with the same
  `amz-sdk-invocation-id`. `invocations(op)` counts the calls of an operation (not the attempts:
  a slow machine may see a timeout retried), `operations()` lists every call once, `attempts(op)`
  the attempts of each call, and
  `pages[op]` holds the paging token of every page of an EC2 describe call that was answered (the
  first page's is 0): a test asserts which pages were read, never how many requests it took.

Only the test's AWS_ENDPOINT_URL changes; flowsql and botocore are used as they are.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_EC2_SETS = {
    "DescribeNetworkInterfaces": "networkInterfaceSet",
    "DescribeSubnets": "subnetSet",
    "DescribeVpcs": "vpcSet",
    "DescribeSecurityGroups": "securityGroupInfo",
    "DescribeNetworkAcls": "networkAclSet",
    "DescribeRouteTables": "routeTableSet",
}
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}


class FaultProxy:
    def __init__(self, upstream: str):
        u = urllib.parse.urlsplit(upstream)
        self.upstream = (u.hostname, u.port)
        self.fail_queries: dict[str, str] = {}
        self.scanned: dict[str, int] = {}
        self.throttle: dict[str, int] = {}
        self.garble: dict[str, int] = {}
        self.fail_next: dict[str, list[tuple[int, str, str]]] = {}
        self.deny: set[str] = set()
        self.deny_roles: set[str] = set()
        self.workgroup_updates: list[dict] = []
        self.project_updates: list[dict] = []
        self.requests: list[tuple[str, str, str, str]] = []
        self.bodies: list[bytes] = []  # the body of each of `requests`, in the same order
        self.paginate = True
        self.logs_page_size: int | None = None
        self.throttle_paged: dict[str, int] = {}
        self.json_requests: list[tuple[str, dict]] = []
        self.delay: dict[str, float] = {}
        self.corrupt: dict[str, int] = {}
        self.cut: dict[str, int] = {}
        self.calls: list[str] = []
        self.invocation_ids: list[tuple[str, str]] = []  # (operation, amz-sdk-invocation-id) per attempt
        self.pages: dict[str, list[int]] = {}  # EC2 describe operation -> the token of each page answered
        self.flow_logs: dict[str, tuple[str, dict]] = {}  # id -> (LogDestination, DestinationOptions)
        self._full_pages: dict[tuple, tuple] = {}  # (operation, request without paging) -> full answer
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def clear(self) -> None:
        """Forget the calls so far (not the faults still to come)."""
        with self._lock:
            self.calls.clear()
            self.requests.clear()
            self.bodies.clear()
            self.invocation_ids.clear()
            self.pages.clear()

    def invocations(self, op: str) -> int:
        """How many API calls of `op` went through, each counted once however often it was retried."""
        with self._lock:
            return len({i for o, i in self.invocation_ids if o == op})

    def operations(self) -> list[str]:
        """Every API call that went through, once each however often it was retried, in order."""
        with self._lock:
            seen: dict[str, str] = {}
            for o, i in self.invocation_ids:
                seen.setdefault(i, o)
            return list(seen.values())

    def attempts(self, op: str) -> list[int]:
        """The number of attempts of each call of `op`, in the order the calls began."""
        with self._lock:
            counts: dict[str, int] = {}
            for o, i in self.invocation_ids:
                if o == op:
                    counts[i] = counts.get(i, 0) + 1
            return list(counts.values())

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    # -- handling -------------------------------------------------------------------------

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One send per response: headers and body in separate segments meet delayed ACKs (40 ms).
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def handle_expect_100(self):
                # botocore sends S3 bodies after `Expect: 100-continue`: the interim answer must leave
                # the write buffer at once, or every upload waits out botocore's one-second timeout
                ok = super().handle_expect_100()
                self.wfile.flush()
                return ok

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, out = proxy.handle(self.command, self.path, dict(self.headers.items()), body)
                cut = status == 200 and self.command == "GET" and proxy._take(proxy.cut, self.path)
                self.send_response(status)
                for k, v in headers.items():
                    if k.lower() not in _HOP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(out)))
                if cut:
                    self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(out[: len(out) // 2] if cut else out)
                if cut:
                    self.wfile.flush()
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

        return Handler

    def handle(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, dict, bytes]:
        target = headers.get("X-Amz-Target") or headers.get("x-amz-target") or ""
        op = target.rsplit(".", 1)[-1] if target else ""
        form = None
        if not op and body and "x-www-form-urlencoded" in (headers.get("Content-Type") or ""):
            form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True)
            op = (form.get("Action") or [""])[0]
        if not op and "/operation/" in path:  # smithy RPC v2 CBOR: /service/NAME/operation/OPERATION
            op = path.split("?", 1)[0].rsplit("/", 1)[-1]
        scope = _credential_scope(headers)
        for text, seconds in list(self.delay.items()):
            if text in path:
                time.sleep(seconds)
        if target and body:
            try:
                request = json.loads(body)
            except ValueError:
                request = {}
            with self._lock:
                self.json_requests.append((op, request))
            if op == "FilterLogEvents" and self.logs_page_size and "limit" not in request:
                request["limit"] = self.logs_page_size
                body = json.dumps(request).encode()
            if request.get("nextToken") and self._take(self.throttle_paged, op, exact=True):
                with self._lock:
                    self.calls.append(op)
                    self.requests.append((scope[1], op, method, path))
                return self._throttled(op, True)
        if scope[1] == "s3" and self.deny:
            url = urllib.parse.urlsplit(path)
            bucket = urllib.parse.unquote(url.path).lstrip("/").split("/", 1)[0]
            subs = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            if any(f"{bucket}?{sub}" in self.deny for sub in subs):
                with self._lock:
                    self.calls.append(f"{method} {path.split('?')[0]}")
                    self.requests.append((scope[1], op, method, path))
                    self.bodies.append(body)
                return 403, {"Content-Type": "application/xml"}, (
                    b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code>"
                    b"<Message>Access Denied</Message><RequestId>proxy</RequestId></Error>")
        if op == "AssumeRole" and form is not None and (form.get("RoleArn") or [""])[0] in self.deny_roles:
            with self._lock:
                self.calls.append(op)
                self.requests.append((scope[1], op, method, path))
                self.bodies.append(body)
            arn = (form.get("RoleArn") or [""])[0]
            return 403, {"Content-Type": "text/xml"}, (
                "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized "
                f"to perform: sts:AssumeRole on resource: {arn}</Message></Error><RequestId>proxy</RequestId>"
                "</ErrorResponse>").encode()
        if op in self.deny or (op and f"{op}@{scope[0]}" in self.deny):
            with self._lock:
                self.calls.append(op)
                self.requests.append((scope[1], op, method, path))
                self.bodies.append(body)
            return 403, {"Content-Type": "text/xml"}, (
                b"<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized "
                b"to perform this operation.</Message></Error></Errors><RequestID>proxy</RequestID></Response>")
        with self._lock:
            self.calls.append(op or f"{method} {path.split('?')[0]}")
            self.requests.append((scope[1], op, method, path))
            self.bodies.append(body)
            invocation = next((v for k, v in headers.items() if k.lower() == "amz-sdk-invocation-id"),
                              f"attempt-{len(self.calls)}")  # a client that does not say: each attempt a call
            self.invocation_ids.append((self.calls[-1], invocation))
            if self.throttle.get(op, 0) > 0:
                self.throttle[op] -= 1
                return self._throttled(op, bool(target))
            call = op or f"{method} {path.split('?')[0]}"
            if self.fail_next.get(call):
                status, code, message = self.fail_next[call].pop(0)
                if scope[1] == "s3":
                    return status, {"Content-Type": "application/xml"}, (
                        f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}"
                        "</Message><RequestId>proxy</RequestId></Error>").encode()
                body = json.dumps({"__type": code, "message": message, "Message": message}).encode()
                return status, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code}, body
            if self.garble.get(op, 0) > 0:
                self.garble[op] -= 1
                return 200, {"Content-Type": "text/xml"}, b"<html><body>not an AWS answer"
        if op == "UpdateWorkGroup":
            return self._update_work_group(json.loads(body or b"{}"), scope[0])
        if op == "UpdateProject":
            return self._update_project(json.loads(body or b"{}"), scope[0])
        if op == "CreateProject":
            body = _with_source_location(body)

        page = None
        if form is not None and self.paginate and op in _EC2_SETS and "MaxResults" in form:
            size = int(form.pop("MaxResults")[0])
            start = int(form.pop("NextToken", ["0"])[0])
            page = (start, size)
            body = urllib.parse.urlencode({k: v[0] for k, v in form.items()}).encode()

        created = None
        if form is not None and op == "CreateFlowLogs":
            created, body = self._create_flow_logs(form)

        if page is not None and page[0] > 0 and (op, body) in self._full_pages:
            # a continuation: slice the listing fetched for the first page (moto takes seconds to
            # list 10,000 ENIs, and a real paginated listing is one consistent view anyway)
            status, rheaders, out = self._full_pages[(op, body)]
        else:
            status, rheaders, out = self._forward(method, path, headers, body)
            if page is not None and status == 200:
                self._full_pages[(op, body)] = (status, rheaders, out)
        if created is not None and status == 200:
            for fid in _texts(out, "flowLogIdSet"):
                self.flow_logs[fid] = created
        if op == "DescribeFlowLogs" and status == 200 and self.flow_logs:
            out = self._describe_flow_logs(out)
        if op == "BatchGetProjects" and status == 200:
            out = _without_source_location(out)
        if op == "GetQueryExecution" and status == 200:
            out = self._query_execution(out)
        if page is not None and status == 200:
            out = _ec2_page(out, _EC2_SETS[op], *page)
            with self._lock:
                self.pages.setdefault(op, []).append(page[0])
        if (scope[1] == "s3" and method == "GET" and status == 200 and out and "?" not in path
                and self._take(self.corrupt, path)):
            out = bytes([out[0] ^ 0xFF]) + out[1:]
        return status, rheaders, out

    def _take(self, counts: dict, text: str, exact: bool = False) -> bool:
        """Use up one of the n faults asked for `text` (a path fragment, or an operation's name)."""
        with self._lock:
            for key, n in counts.items():
                if n > 0 and (key == text if exact else key in text):
                    counts[key] = n - 1
                    return True
        return False

    @staticmethod
    def _create_flow_logs(form: dict) -> tuple[tuple[str, dict] | None, bytes]:
        dest = (form.get("LogDestination") or [""])[0]
        options = {k.split(".", 1)[1]: v[0] for k, v in form.items() if k.startswith("DestinationOptions.")}
        if not dest.startswith("arn:aws:s3:::"):
            return None, urllib.parse.urlencode({k: v[0] for k, v in form.items()}).encode()
        fwd = {k: v[0] for k, v in form.items() if not k.startswith("DestinationOptions.")}
        fwd["LogDestination"] = dest.split("/", 1)[0]
        if options:
            options = {"FileFormat": options.get("FileFormat", "plain-text"),
                       "HiveCompatiblePartitions": options.get("HiveCompatiblePartitions", "false").lower(),
                       "PerHourPartition": options.get("PerHourPartition", "false").lower()}
        else:
            options = {"FileFormat": "plain-text", "HiveCompatiblePartitions": "false", "PerHourPartition": "false"}
        return (dest, options), urllib.parse.urlencode(fwd).encode()

    def _describe_flow_logs(self, out: bytes) -> bytes:
        root = ET.fromstring(out)
        ns, q = _ns(root)
        for item in root.iter(q("item")):
            fid = item.find(q("flowLogId"))
            if fid is None or fid.text not in self.flow_logs:
                continue
            dest, options = self.flow_logs[fid.text]
            el = item.find(q("logDestination"))
            if el is None:
                el = ET.SubElement(item, q("logDestination"))
            el.text = dest
            opts = ET.SubElement(item, q("destinationOptions"))
            for k, v in options.items():
                ET.SubElement(opts, q(k[0].lower() + k[1:])).text = v
        return _xml(root, ns)

    def _update_work_group(self, req: dict, region: str) -> tuple[int, dict, bytes]:
        from moto.athena.models import athena_backends
        from moto.core import DEFAULT_ACCOUNT_ID

        self.workgroup_updates.append(req)
        headers = {"Content-Type": "application/x-amz-json-1.1"}
        wg = athena_backends[DEFAULT_ACCOUNT_ID][region].work_groups.get(req.get("WorkGroup"))
        if wg is None:
            return 400, headers, json.dumps({"__type": "InvalidRequestException",
                                             "Message": "WorkGroup is not found."}).encode()
        conf, updates = wg.configuration, req.get("ConfigurationUpdates") or {}
        for k in ("EnforceWorkGroupConfiguration", "PublishCloudWatchMetricsEnabled", "BytesScannedCutoffPerQuery",
                  "RequesterPaysEnabled"):
            if k in updates:
                conf[k] = updates[k]
        if updates.get("RemoveBytesScannedCutoffPerQuery"):
            conf.pop("BytesScannedCutoffPerQuery", None)
        if "EngineVersion" in updates:
            v = updates["EngineVersion"]["SelectedEngineVersion"]
            conf["EngineVersion"] = {"SelectedEngineVersion": v, "EffectiveEngineVersion": v}
        rc_updates = updates.get("ResultConfigurationUpdates") or {}
        rc = conf.setdefault("ResultConfiguration", {})
        for k in ("OutputLocation", "EncryptionConfiguration", "ExpectedBucketOwner", "AclConfiguration"):
            if k in rc_updates:
                rc[k] = rc_updates[k]
            if rc_updates.get(f"Remove{k}"):
                rc.pop(k, None)
        if "State" in req:
            wg.state = req["State"]
        if "Description" in req:
            wg.description = req["Description"]
        return 200, headers, b"{}"

    def _update_project(self, req: dict, region: str) -> tuple[int, dict, bytes]:
        from moto.codebuild.models import codebuild_backends
        from moto.core import DEFAULT_ACCOUNT_ID

        self.project_updates.append(req)
        headers = {"Content-Type": "application/x-amz-json-1.1"}
        project = codebuild_backends[DEFAULT_ACCOUNT_ID][region].codebuild_projects.get(req.get("name"))
        if project is None:
            return 400, headers, json.dumps({"__type": "ResourceNotFoundException",
                                             "message": f"Project {req.get('name')} not found"}).encode()
        meta = project.project_metadata
        for k in ("description", "source", "artifacts", "environment", "serviceRole", "timeoutInMinutes", "tags"):
            if k in req:
                meta[k] = req[k]
        if "serviceRole" in req:
            project.service_role = req["serviceRole"]
        if "tags" in req:
            project.tags = req["tags"]
        return 200, headers, json.dumps({"project": _without_placeholder(meta)}, default=str).encode()

    def _forward(self, method, path, headers, body):
        conn = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            fwd = {k: v for k, v in headers.items() if k.lower() not in _HOP}
            fwd["Content-Length"] = str(len(body))
            conn.request(method, path, body=body, headers=fwd)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def _query_execution(self, out: bytes) -> bytes:
        doc = json.loads(out)
        qe = doc["QueryExecution"]
        for marker, reason in self.fail_queries.items():
            if marker in qe.get("Query", "") and qe["Status"]["State"] in ("SUCCEEDED", "RUNNING", "QUEUED"):
                qe["Status"]["State"] = "FAILED"
                qe["Status"]["StateChangeReason"] = reason
        for marker, n in self.scanned.items():
            if marker in qe.get("Query", ""):
                qe["Statistics"]["DataScannedInBytes"] = n
        return json.dumps(doc).encode()

    @staticmethod
    def _throttled(op: str, json_protocol: bool) -> tuple[int, dict, bytes]:
        if json_protocol:
            body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
            return 400, {"Content-Type": "application/x-amz-json-1.1"}, body
        body = (b"<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded."
                b"</Message></Error></Errors><RequestID>proxy</RequestID></Response>")
        return 503, {"Content-Type": "text/xml"}, body


_NO_SOURCE_PLACEHOLDER = "flowsql-test-proxy:no-source"


def _with_source_location(body: bytes) -> bytes:
    req = json.loads(body or b"{}")
    source = req.get("source") or {}
    if source.get("type") == "NO_SOURCE" and "location" not in source:
        source["location"] = _NO_SOURCE_PLACEHOLDER
    return json.dumps(req).encode()


def _without_placeholder(project: dict) -> dict:
    project = dict(project)
    source = dict(project.get("source") or {})
    if source.get("location") == _NO_SOURCE_PLACEHOLDER:
        del source["location"]
    project["source"] = source
    return project


def _without_source_location(out: bytes) -> bytes:
    doc = json.loads(out)
    doc["projects"] = [_without_placeholder(p) for p in doc.get("projects", [])]
    return json.dumps(doc).encode()


def _credential_scope(headers: dict) -> tuple[str, str]:
    """(region, service) of a SigV4-signed request: `Credential=KEY/DATE/REGION/SERVICE/aws4_request`."""
    auth = headers.get("Authorization") or headers.get("authorization") or ""
    cred = auth.split("Credential=", 1)[1].split(",", 1)[0] if "Credential=" in auth else ""
    parts = cred.split("/")
    return (parts[2], parts[3]) if len(parts) >= 5 else ("", "")


def _ns(root):
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    return ns, ((lambda t: f"{{{ns}}}{t}") if ns else (lambda t: t))


def _xml(root, ns: str) -> bytes:
    if ns:
        ET.register_namespace("", ns)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _texts(out: bytes, set_name: str) -> list[str]:
    root = ET.fromstring(out)
    _, q = _ns(root)
    el = root.find(q(set_name))
    return [i.text for i in el] if el is not None else []


def _ec2_page(out: bytes, set_name: str, start: int, size: int) -> bytes:
    root = ET.fromstring(out)
    ns, q = _ns(root)
    items_el = root.find(q(set_name))
    if items_el is None:
        return out
    items = list(items_el)
    items_el.clear()
    items_el.extend(items[start:start + size])
    if start + size < len(items):
        token = ET.SubElement(root, q("nextToken"))
        token.text = str(start + size)
    return _xml(root, ns)

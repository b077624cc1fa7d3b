"""Checking a downloaded S3 object against what S3 says it is, on the bytes as they stream in (the
file is never read a second time).

S3 returns an object's additional checksum with `ChecksumMode=ENABLED`: CRC64NVME (what S3 adds to
every object uploaded without one since 2025), CRC32C, CRC32, SHA-1 or SHA-256, as the base64 of the
big-endian digest; a value ending `-N` is a checksum of the parts' checksums (a multipart upload),
which cannot be recomputed from the bytes alone. CRC32, SHA-1 and SHA-256 come with Python;
CRC32C and CRC64NVME need the `awscrt` package (or `crc32c` / `google-crc32c` for CRC32C) and are
used when it is installed. Without a usable checksum, an ETag that is the object's MD5 — 32 hex
digits, no `-N` part count, no SSE-KMS or SSE-C encryption, whose ETags are not an MD5 — is checked
instead; without either, the size alone.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zlib

# Strongest first among equals; every one present is as good a proof as the others.
ORDER = ("crc64nvme", "crc32c", "sha256", "sha1", "crc32")
_MD5_ETAG = re.compile(r"^[0-9a-f]{32}$")


class _Crc32:
    def __init__(self):
        self.value = 0

    def update(self, data) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


class _CrtCrc:
    def __init__(self, fn, width: int):
        self.fn, self.width, self.value = fn, width, 0

    def update(self, data) -> None:
        self.value = self.fn(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(self.width, "big")


class _Hash:
    def __init__(self, name: str):
        self.h = hashlib.new(name, usedforsecurity=False)

    def update(self, data) -> None:
        self.h.update(data)

    def digest(self) -> bytes:
        return self.h.digest()


def _crc32c_factory():
    try:
        from awscrt import checksums

        return lambda: _CrtCrc(checksums.crc32c, 4)
    except ImportError:
        pass
    try:
        import crc32c as _c

        return lambda: _CrtCrc(lambda data, v: _c.crc32c(data, v), 4)
    except ImportError:
        pass
    try:
        import google_crc32c as _g

        return lambda: _CrtCrc(lambda data, v: _g.extend(v, bytes(data)), 4)
    except ImportError:
        return None


def _crc64nvme_factory():
    try:
        from awscrt import checksums

        if hasattr(checksums, "crc64nvme"):
            return lambda: _CrtCrc(checksums.crc64nvme, 8)
    except ImportError:
        pass
    return None


_FACTORIES: dict | None = None


def factories() -> dict:
    """Algorithm name -> a function making a fresh checksum, for the algorithms this Python can compute."""
    global _FACTORIES
    if _FACTORIES is None:
        f = {"crc32": _Crc32, "sha1": lambda: _Hash("sha1"), "sha256": lambda: _Hash("sha256")}
        for name, make in (("crc32c", _crc32c_factory()), ("crc64nvme", _crc64nvme_factory())):
            if make is not None:
                f[name] = make
        _FACTORIES = f
    return _FACTORIES


class Verifier:
    """Fed every chunk of one object's body; `check()` says whether the whole matches S3's word."""

    def __init__(self, headers: dict, expected_size: int | None):
        h = {k.lower(): v for k, v in (headers or {}).items()}
        self.expected_size = expected_size
        self.size = 0
        self.method = "size"
        self.expected: bytes | str | None = None
        self.value: str | None = None  # "crc32:BASE64" as recorded
        self.unusable: list[str] = []  # checksums S3 gave that could not be recomputed here
        self._sum = None
        usable = factories()
        for algorithm in ORDER:
            given = h.get(f"x-amz-checksum-{algorithm}")
            if not given:
                continue
            if "-" in given or h.get("x-amz-checksum-type", "").upper() == "COMPOSITE":
                self.unusable.append(f"{algorithm.upper()} of the parts")
                continue
            if algorithm not in usable:
                self.unusable.append(algorithm.upper())
                continue
            try:
                self.expected = base64.b64decode(given, validate=True)
            except ValueError:
                self.unusable.append(f"{algorithm.upper()} (not base64)")
                continue
            self.method, self._sum = algorithm, usable[algorithm]()
            self.value = f"{algorithm}:{given}"
            break
        if self._sum is None:
            etag = (h.get("etag") or "").strip('"').lower()
            sse = (h.get("x-amz-server-side-encryption") or "").lower()
            customer_key = h.get("x-amz-server-side-encryption-customer-algorithm")
            if _MD5_ETAG.match(etag) and sse in ("", "aes256") and not customer_key:
                self.method, self._sum, self.expected = "md5", _Hash("md5"), bytes.fromhex(etag)

    def update(self, data) -> None:
        self.size += len(data)
        if self._sum is not None:
            self._sum.update(data)

    def check(self) -> str | None:
        """None when the object is whole and matches; else what is wrong."""
        if self.expected_size is not None and self.size != self.expected_size:
            return f"received {self.size:,} bytes, S3 says {self.expected_size:,}"
        if self._sum is not None and self._sum.digest() != self.expected:
            got = self._sum.digest()
            shown = got.hex() if self.method == "md5" else base64.b64encode(got).decode()
            return f"{self.method.upper()} mismatch: computed {shown}, S3 says " + (
                self.expected.hex() if self.method == "md5" else base64.b64encode(self.expected).decode())
        return None


def is_md5_etag(etag: str | None) -> bool:
    """An ETag that may be the object's MD5 (a single-part upload; not said for SSE-KMS objects,
    whose ETags look the same: a match then proves the bytes, a mismatch proves nothing)."""
    return bool(etag) and bool(_MD5_ETAG.match(etag.strip('"').lower()))

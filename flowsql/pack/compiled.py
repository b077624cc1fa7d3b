"""Jinja's compiled templates, kept so that a rendering does not compile them again.

Compiling the macros and a query's template is most of a rendering's time (0.06–0.09 s here), and a
rendering is cached only for its exact parameters and window (render.py), which change every day, and
every hour for a window ending today. Jinja's own bytecode cache keeps the compiled code of a
template by its name and checks it against the source's checksum, its format's version and Python's
(jinja2.bccache.Bucket); the key here adds what else the code depends on: Jinja's version and the
code of render.py, which configures how templates compile. Entries are read from the file
`python -m flowsql.pack.lint.ship` writes at install (compiled.json beside this module: the first
query after install compiles nothing of the pack), then from the cache ($FLOWSQL_CACHE_DIR/jinja),
where every miss is written. A missing, torn or stale entry is only a compile more.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from pathlib import Path

import jinja2

from ..cache import cache_dir, read_cached, write_cached

SHIPPED = Path(__file__).resolve().with_name("compiled.json")
_RENDERER = Path(__file__).resolve().with_name("render.py")


shipping: dict | None = None  # while recording(): every template compiled afresh, its entry kept here


@contextlib.contextmanager
def recording():
    """While it lasts, every template is compiled afresh (no entry is read) and its entry is kept in
    the dict it gives: what ship.py writes to SHIPPED. After it, SHIPPED is read again."""
    global shipping
    shipping = {}
    try:
        yield shipping
    finally:
        shipping = None
        CodeCache._shipped = None


class CodeCache(jinja2.BytecodeCache):
    """Jinja's BytecodeCache over the shipped entries and the cache folder."""

    _salt: str | None = None
    _shipped: dict | None = None

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        if CodeCache._salt is None:
            from ..engines.local.translate import package_version

            CodeCache._salt = f"{package_version('jinja2')}\0{hashlib.sha256(_RENDERER.read_bytes()).hexdigest()}"
        return hashlib.sha256(f"{CodeCache._salt}\0{name}\0{filename}".encode()).hexdigest()

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if shipping is not None:
            return
        for entry in (_shipped().get(bucket.key), read_cached(cache_dir("jinja") / f"{bucket.key}.json")):
            if isinstance(entry, str):
                try:
                    bucket.bytecode_from_string(base64.b64decode(entry, validate=True))
                except Exception:  # noqa: BLE001 - a torn or foreign entry is a compile more
                    bucket.reset()
                if bucket.code is not None:
                    return

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        entry = base64.b64encode(bucket.bytecode_to_string()).decode()
        if shipping is not None:
            shipping[bucket.key] = entry
        elif _shipped().get(bucket.key) != entry:
            write_cached(cache_dir("jinja") / f"{bucket.key}.json", entry)


def _shipped() -> dict:
    if CodeCache._shipped is None:
        doc = read_cached(SHIPPED)
        CodeCache._shipped = doc if isinstance(doc, dict) else {}
    return CodeCache._shipped


def from_string(env: jinja2.Environment, source: str, name: str | None = None) -> jinja2.Template:
    """env.from_string(source), its compiled code from env's CodeCache when it holds it (Jinja asks a
    bytecode cache for loaded templates only). `name`: what the source is (a file's path); by
    default its digest."""
    cache = env.bytecode_cache
    name = name or "string:" + hashlib.sha256(source.encode()).hexdigest()
    bucket = cache.get_bucket(env, name, None, source)
    code = bucket.code
    if code is None:
        code = env.compile(source)
        bucket.code = code
        cache.set_bucket(bucket)
    return env.template_class.from_code(env, code, env.make_globals(None), None)

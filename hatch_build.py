"""Hatchling's build hook: compiles flowsql's two C extensions into the package:
flowsql/engines/local/_records.c, the record check of a cold query (integrity.record_checker), and
flowsql/report/_jsonrows.c, a table's rows as JSON (report.jsonrows: evidence digests, case.json).

An editable install gets them beside their source (the checkout is on sys.path), a wheel inside it (a
platform wheel then). Without a C compiler the build goes on and says so: flowsql then checks records
with RE2 (google-re2), the same check at less than half the speed, and writes JSON with the json
module, the same bytes at a fifth of the speed.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# each extension's source, and what flowsql does without it
SOURCES = {
    "flowsql/engines/local/_records.c": "records are checked with RE2 instead",
    "flowsql/report/_jsonrows.c": "JSON rows are written by the json module instead",
}


class CExtensions(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        root = Path(self.root)
        for source, without in SOURCES.items():
            name = source.removesuffix(".c") + sysconfig.get_config_var("EXT_SUFFIX")
            if version == "editable":
                target = root / name
            else:
                target = Path(tempfile.mkdtemp(prefix="flowsql-build-")) / Path(name).name
            if not _compile(root / source, target, without):
                continue
            if version != "editable":
                build_data["force_include"][str(target)] = name
            build_data["pure_python"] = False
            build_data["infer_tag"] = True


def _compile(source: Path, target: Path, without: str) -> bool:
    cc = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    command = [*cc, "-O3", "-fPIC", "-shared", "-Wall", "-I", sysconfig.get_paths()["include"],
               str(source), "-o", str(target)]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as e:
        why = getattr(e, "stderr", None) or str(e)
        print(f"flowsql: {source.name} not compiled ({why.strip().splitlines()[-1] if why.strip() else e}); "
              f"{without}", file=sys.stderr)
        return False
    return True

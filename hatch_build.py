"""Hatchling's build hook: compiles flowsql/engines/local/_records.c, the record check of a cold query
(integrity.record_checker), into the package.

An editable install gets it beside its source (the checkout is on sys.path), a wheel inside it (a
platform wheel then). Without a C compiler the build goes on and says so: flowsql then checks records
with RE2 (google-re2), the same check at less than half the speed.
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

SOURCE = "flowsql/engines/local/_records.c"


class RecordsExtension(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        name = "flowsql/engines/local/_records" + sysconfig.get_config_var("EXT_SUFFIX")
        root = Path(self.root)
        if version == "editable":
            target = root / name
        else:
            target = Path(tempfile.mkdtemp(prefix="flowsql-build-")) / Path(name).name
        if not _compile(root / SOURCE, target):
            return
        if version != "editable":
            build_data["force_include"][str(target)] = name
        build_data["pure_python"] = False
        build_data["infer_tag"] = True


def _compile(source: Path, target: Path) -> bool:
    cc = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    command = [*cc, "-O3", "-fPIC", "-shared", "-Wall", "-I", sysconfig.get_paths()["include"],
               str(source), "-o", str(target)]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as e:
        why = getattr(e, "stderr", None) or str(e)
        print(f"flowsql: {SOURCE} not compiled ({why.strip().splitlines()[-1] if why.strip() else e}); "
              "records are checked with RE2 instead", file=sys.stderr)
        return False
    return True

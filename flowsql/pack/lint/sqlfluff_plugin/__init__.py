"""flowsql's sqlfluff plugin: rule FS01 (the partition bound) and the `flowsql` templater.

Registered through the `sqlfluff` entry point (pyproject.toml), so `sqlfluff lint` in an editor or a
pre-commit hook applies FS01 and renders pack templates the way `flowsql lint` does. This module is
what sqlfluff loads; the rule and the templater are imported only when sqlfluff asks for them
(sqlfluff's plugin guide: a rule class is validated against every plugin's config info, so it must
be defined after all plugins have loaded).
"""

from __future__ import annotations

from sqlfluff.core.config import load_config_resource
from sqlfluff.core.plugin import hookimpl


@hookimpl
def get_rules():
    from .rules import Rule_FS01

    return [Rule_FS01]


@hookimpl
def get_templaters():
    from .templater import FlowsqlTemplater

    return [FlowsqlTemplater]


@hookimpl
def load_default_config():
    return load_config_resource(package=__name__, file_name="plugin_default_config.cfg")


@hookimpl
def get_configs_info():
    return {
        "flow_log_tables": {
            "definition": (
                "Comma-separated names of the flow-log tables whose reads must bound the partition "
                "column day. A name matches however the table is qualified (x.vpc_flow_logs); "
                "* matches any run of name characters."
            ),
        },
    }


def ensure_registered() -> None:
    """Register this plugin with sqlfluff when its entry point is not installed (flowsql run from a
    source tree without `pip install`), so the lint gate never runs without FS01."""
    import sys

    from sqlfluff.core.plugin.host import get_plugin_manager

    manager = get_plugin_manager()
    module = sys.modules[__name__]
    if not manager.is_registered(module):
        manager.register(module, name="flowsql")

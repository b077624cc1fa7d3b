"""Every VPC says its data class (the tag the policy names), with a value the policy knows."""

from __future__ import annotations

from ..model import CheckMeta
from ..facts import Facts

META = CheckMeta(
    id="vpc_data_class",
    title="Every VPC is tagged with a data class the policy knows",
    severity="low",
    why="The data class decides where flow logs must go and how long they are kept. An untagged VPC "
        "gets the policy's default class, which may keep its logs too short; a misspelt class is "
        "nobody's rule.",
    remediation="aws ec2 create-tags --resources VPC_ID --tags Key=data-class,Value=production (the tag key "
                "and the classes are the policy's: flowsql posture --show-policy).",
    compliance=(),
    iam_actions=("ec2:DescribeVpcs",),
)


def run(facts: Facts):
    key = facts.policy.tag_key
    for vpc in facts.vpcs:
        cls = facts.data_class(vpc)
        if cls.source == "tag":
            exempt = " (exempt from flow logging)" if facts.exempt(vpc) else ""
            yield facts.row(META.id, vpc, "ok", f"{key}={cls.tag_value}{exempt}", vpc=vpc)
        elif cls.source == "default":
            yield facts.row(META.id, vpc, "info", f"no {key} tag: treated as {cls.name}, the policy's default "
                            "class", vpc=vpc)
        else:
            yield facts.row(META.id, vpc, "alarm", f"{key}={cls.tag_value} is no class of the policy "
                            f"({facts.policy.describe_classes()}); treated as {cls.name}", vpc=vpc)

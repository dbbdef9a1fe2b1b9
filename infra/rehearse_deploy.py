"""The deploy rehearsal: template.yaml transformed as `sam deploy` transforms it (samtranslator),
created on LocalStack's CloudFormation, then every created resource read back and compared with
the template, property by property. What LocalStack cannot create is left out by the list below
(reviewed: docs/runbook.md, "Deploy rehearsal"); references to what was left out are given the
names and ARNs a deployment would give them. Prints a table of every resource; exits 1 if
creation failed or a property differs (other than the known gaps listed below).

  python infra/rehearse_deploy.py      with AWS_ENDPOINT_URL naming a LocalStack (infra/stack.sh rehearse)
"""

import json
import os
import re
import sys
import time

import boto3
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STACK = "rehearsal"
REGION = os.environ.get("AWS_REGION", "us-east-1")
# A deployment's parameters: the defaults, and an alarm address so that the conditional
# subscription is created too.
PARAMETERS = {"AlarmEmail": "ops@example.com"}

# What LocalStack's CloudFormation cannot create here, by type, and why. Each was tried.
LEFT_OUT = {
    "AWS::Lambda::Function": "LocalStack creates a function by starting its runtime in Docker; no Docker engine runs here",
    "AWS::Lambda::Permission": "granted on a function, which is left out",
    "AWS::Lambda::EventSourceMapping": "maps a queue to a function, which is left out",
    "AWS::SES::EmailIdentity": "LocalStack's CloudFormation has no provider for it (NotImplemented)",
}
# What LocalStack's CloudFormation reports created but its community edition does not emulate:
# there is nothing to read back (the routes are checked against openapi.yaml by the contract tests).
UNREADABLE = {
    "AWS::ApiGatewayV2::Api": "apigatewayv2 is not in LocalStack's community edition",
    "AWS::ApiGatewayV2::Stage": "apigatewayv2 is not in LocalStack's community edition",
}
# Properties LocalStack accepts but does not apply (checked, and reported as such, not failed).
KNOWN_GAPS = {
    ("AWS::DynamoDB::Table", "PointInTimeRecoverySpecification"): "LocalStack's table provider ignores it (its DynamoDB API applies it)",
    ("AWS::Logs::LogGroup", "RetentionInDays"): "LocalStack's log group provider ignores it (its Logs API applies it)",
}


def sam_template():
    """template.yaml as `sam deploy` sends it: code locations in S3, then SAM's transform."""
    with open(os.path.join(ROOT, "template.yaml")) as f:
        template = yaml_parse(f.read())
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{STACK}-artifacts/{name}.zip"

    class NoManagedPolicies:  # every policy the template names is an ARN or inline
        def load(self):
            return {}

    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    return transform(template, PARAMETERS, NoManagedPolicies())


def leave_out(template):
    """Removes the resources LEFT_OUT names, returning {logical id: (type, reason)}. References
    to a removed function get what a deployment would call it (its name and ARN)."""
    removed, stand_ins = {}, {}
    for name, resource in list(template["Resources"].items()):
        if resource["Type"] in LEFT_OUT:
            removed[name] = (resource["Type"], LEFT_OUT[resource["Type"]])
            del template["Resources"][name]
            if resource["Type"] == "AWS::Lambda::Function":
                function = f"{STACK}-{name}"
                stand_ins[name] = {"Ref": function, "Arn": f"arn:aws:lambda:{REGION}:000000000000:function:{function}"}

    def replace(node):
        if isinstance(node, dict):
            if set(node) == {"Ref"} and node["Ref"] in stand_ins:
                return stand_ins[node["Ref"]]["Ref"]
            if set(node) == {"Fn::GetAtt"} and node["Fn::GetAtt"][0] in stand_ins:
                return stand_ins[node["Fn::GetAtt"][0]][node["Fn::GetAtt"][1]]
            if set(node) == {"Fn::Sub"}:
                body = node["Fn::Sub"]
                text, names = (body, {}) if isinstance(body, str) else (body[0], body[1])
                for name, stand_in in stand_ins.items():
                    text = text.replace("${" + name + ".Arn}", stand_in["Arn"]).replace("${" + name + "}", stand_in["Ref"])
                return {"Fn::Sub": text if isinstance(body, str) else [text, replace(names)]}
            return {k: replace(v) for k, v in node.items()}
        if isinstance(node, list):
            return [replace(v) for v in node]
        return node

    for name, resource in template["Resources"].items():
        resource = replace(resource)
        depends = resource.get("DependsOn")
        if depends:
            depends = [d for d in ([depends] if isinstance(depends, str) else depends) if d not in removed]
            resource["DependsOn"] = depends
            if not depends:
                del resource["DependsOn"]
        template["Resources"][name] = resource
    template["Outputs"] = replace(template.get("Outputs", {}))
    return removed


def create(cfn, template):
    """Creates the stack from the template uploaded to a bucket, as `sam deploy` does once a
    template is over CloudFormation's 51,200-byte inline limit; its final status."""
    bucket = f"{STACK}-artifacts"
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="template.json", Body=json.dumps(template).encode())
    cfn.create_stack(
        StackName=STACK,
        TemplateURL=f"https://{bucket}.s3.amazonaws.com/template.json",
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in PARAMETERS.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    for _ in range(600):
        status = cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"]
        if not status.endswith("IN_PROGRESS"):
            return status
        time.sleep(0.5)
    return "TIMED_OUT"


class Deployed:
    """The created stack, read back through each service's API."""

    def __init__(self, template):
        self.template = template
        self.cfn, self.ddb, self.sqs = boto3.client("cloudformation"), boto3.client("dynamodb"), boto3.client("sqs")
        self.logs, self.sns, self.cw = boto3.client("logs"), boto3.client("sns"), boto3.client("cloudwatch")
        self.secrets, self.apigw = boto3.client("secretsmanager"), boto3.client("apigatewayv2")
        resources = self.cfn.describe_stack_resources(StackName=STACK)["StackResources"]
        self.physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}
        self.status = {r["LogicalResourceId"]: r["ResourceStatus"] for r in resources}
        self.parameters = {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()} | PARAMETERS

    def attribute(self, name, attribute):
        kind, physical = self.template["Resources"][name]["Type"], self.physical[name]
        if kind == "AWS::SQS::Queue":
            arn = self.sqs.get_queue_attributes(QueueUrl=physical, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            return {"Arn": arn, "QueueName": arn.rsplit(":", 1)[1], "QueueUrl": physical}[attribute]
        if kind == "AWS::DynamoDB::Table":
            table = self.ddb.describe_table(TableName=physical)["Table"]
            return {"Arn": table["TableArn"], "StreamArn": table.get("LatestStreamArn")}[attribute]
        if kind == "AWS::Logs::LogGroup":
            group = self.logs.describe_log_groups(logGroupNamePrefix=physical)["logGroups"][0]
            return group["arn"]
        raise KeyError(f"{name}.{attribute}")

    def resolve(self, node):
        """The value CloudFormation gave `node` (intrinsic functions evaluated)."""
        if isinstance(node, list):
            return [self.resolve(v) for v in node]
        if not isinstance(node, dict):
            return node
        if "Ref" in node:
            ref = node["Ref"]
            pseudo = {"AWS::Region": REGION, "AWS::StackName": STACK, "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com", "AWS::AccountId": "000000000000"}
            for values in (pseudo, self.parameters, self.physical):
                if ref in values:
                    return values[ref]
            raise KeyError(ref)
        if "Fn::GetAtt" in node:
            return self.attribute(*node["Fn::GetAtt"])
        if "Fn::Sub" in node:
            body = node["Fn::Sub"]
            text, names = (body, {}) if isinstance(body, str) else (body[0], self.resolve(body[1]))
            def sub(m):
                key = m.group(1)
                if key in names:
                    return str(names[key])
                if "." in key:
                    return str(self.attribute(*key.split(".", 1)))
                return str(self.resolve({"Ref": key}))
            return re.sub(r"\$\{([^}!]+)\}", sub, text)
        if "Fn::If" in node:
            condition, yes, no = node["Fn::If"]
            return self.resolve(yes if self.condition(condition) else no)
        if "Fn::Join" in node:
            sep, parts = node["Fn::Join"]
            return sep.join(str(p) for p in self.resolve(parts))
        return {k: self.resolve(v) for k, v in node.items()}

    def condition(self, name):
        definition = self.template["Conditions"][name]
        if "Fn::Not" in definition:
            (inner,) = definition["Fn::Not"]
            return not self.resolve_condition(inner)
        return self.resolve_condition(definition)

    def resolve_condition(self, node):
        if "Fn::Equals" in node:
            a, b = self.resolve(node["Fn::Equals"])
            return str(a) == str(b)
        if "Condition" in node:
            return self.condition(node["Condition"])
        raise ValueError(node)


def same(want, got):
    if isinstance(want, dict) and isinstance(got, dict):
        return all(k in got and same(v, got[k]) for k, v in want.items())
    if isinstance(want, list) and isinstance(got, list):
        return len(want) == len(got) and all(any(same(w, g) for g in got) for w in want)
    if isinstance(want, bool) or isinstance(got, bool):
        return str(want).lower() == str(got).lower()
    try:
        return float(want) == float(got)
    except (TypeError, ValueError):
        return str(want) == str(got)


def described(deployed, name, kind, physical):
    """What the service says of the resource, keyed as the template's properties are."""
    d = deployed
    if kind == "AWS::DynamoDB::Table":
        table = d.ddb.describe_table(TableName=physical)["Table"]
        ttl = d.ddb.describe_time_to_live(TableName=physical)["TimeToLiveDescription"]
        backups = d.ddb.describe_continuous_backups(TableName=physical)["ContinuousBackupsDescription"]
        return {
            "KeySchema": table["KeySchema"],
            "AttributeDefinitions": table["AttributeDefinitions"],
            "BillingMode": table.get("BillingModeSummary", {}).get("BillingMode"),
            "GlobalSecondaryIndexes": [{k: g[k] for k in ("IndexName", "KeySchema", "Projection")} for g in table.get("GlobalSecondaryIndexes", [])],
            "StreamSpecification": {"StreamViewType": table.get("StreamSpecification", {}).get("StreamViewType") if table.get("StreamSpecification", {}).get("StreamEnabled") else None},
            "TimeToLiveSpecification": {"AttributeName": ttl.get("AttributeName"), "Enabled": ttl.get("TimeToLiveStatus") == "ENABLED"},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"},
        }
    if kind == "AWS::SQS::Queue":
        attributes = d.sqs.get_queue_attributes(QueueUrl=physical, AttributeNames=["All"])["Attributes"]
        if "RedrivePolicy" in attributes:
            attributes["RedrivePolicy"] = json.loads(attributes["RedrivePolicy"])
        return attributes
    if kind == "AWS::CloudWatch::Alarm":
        return d.cw.describe_alarms(AlarmNames=[physical])["MetricAlarms"][0]
    if kind == "AWS::Logs::LogGroup":
        group = d.logs.describe_log_groups(logGroupNamePrefix=physical)["logGroups"][0]
        return {"LogGroupName": group["logGroupName"], "RetentionInDays": group.get("retentionInDays")}
    if kind == "AWS::SNS::Topic":
        return d.sns.get_topic_attributes(TopicArn=physical)["Attributes"]
    if kind == "AWS::SNS::Subscription":
        topic = d.resolve(d.template["Resources"][name]["Properties"]["TopicArn"])
        subs = d.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        return next({"Protocol": s["Protocol"], "Endpoint": s["Endpoint"], "TopicArn": s["TopicArn"]} for s in subs)
    if kind == "AWS::SecretsManager::Secret":
        secret = d.secrets.describe_secret(SecretId=physical)
        value = d.secrets.get_secret_value(SecretId=physical)["SecretString"]
        spec = d.template["Resources"][name]["Properties"].get("GenerateSecretString", {})
        return {"Description": secret.get("Description"), "GenerateSecretString": {
            "PasswordLength": len(value), "ExcludePunctuation": value.isalnum() if spec.get("ExcludePunctuation") else None}}
    if kind == "AWS::IAM::Role":
        iam = boto3.client("iam")
        role = iam.get_role(RoleName=physical)["Role"]
        inline = [iam.get_role_policy(RoleName=physical, PolicyName=p) for p in iam.list_role_policies(RoleName=physical)["PolicyNames"]]
        return {
            "AssumeRolePolicyDocument": role["AssumeRolePolicyDocument"],
            "ManagedPolicyArns": [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=physical)["AttachedPolicies"]],
            "Policies": [{"PolicyName": p["PolicyName"], "PolicyDocument": p["PolicyDocument"]} for p in inline],
        }
    return {}


def expected(deployed, name, resource):
    """The template's properties of a resource as they should read back."""
    props = deployed.resolve(resource.get("Properties", {}))
    if resource["Type"] == "AWS::DynamoDB::Table":
        props.pop("TableName", None)
    return props


def main():
    template = sam_template()
    removed = leave_out(template)
    cfn = boto3.client("cloudformation")
    status = create(cfn, template)
    print(f"stack {STACK}: {status} ({len(template['Resources'])} resources created from {len(template['Resources']) + len(removed)}; {len(removed)} left out)")
    failures = []
    if status != "CREATE_COMPLETE":
        for event in cfn.describe_stack_events(StackName=STACK)["StackEvents"]:
            if event["ResourceStatus"].endswith("FAILED"):
                print(f"  {event['LogicalResourceId']}: {event.get('ResourceStatusReason')}")
        sys.exit(1)
    deployed = Deployed(template)
    rows = []
    for name, resource in sorted(template["Resources"].items(), key=lambda r: (r[1]["Type"], r[0])):
        kind, physical = resource["Type"], deployed.physical.get(name)
        state = deployed.status.get(name, "MISSING")
        if state != "CREATE_COMPLETE":
            failures.append(f"{name}: {state}")
        got = described(deployed, name, kind, physical) if physical and kind not in UNREADABLE else {}
        checked, differ = [], [f"not read back: {UNREADABLE[kind]}"] if kind in UNREADABLE else []
        for key, want in expected(deployed, name, resource).items():
            if key not in got:
                continue
            if same(want, got[key]):
                checked.append(key)
            elif (kind, key) in KNOWN_GAPS:
                differ.append(f"{key} not applied ({KNOWN_GAPS[(kind, key)]})")
            else:
                differ.append(f"{key}: template {json.dumps(want, default=str)} != {json.dumps(got[key], default=str)}")
                failures.append(f"{name}.{key}")
        rows.append((name, kind, state, checked, differ))
    print(f"\n{'resource':44} {'type':30} {'status':16} checked properties")
    for name, kind, state, checked, differ in rows:
        print(f"{name:44} {kind:30} {state:16} {', '.join(checked) or '-'}")
        for d in differ:
            print(f"{'':92}! {d}")
    by_reason = {}
    for name, (kind, reason) in removed.items():
        by_reason.setdefault((kind, reason), []).append(name)
    print("\nleft out:")
    for (kind, reason), names in sorted(by_reason.items()):
        print(f"  {len(names):3} {kind}: {reason}")
    checked = sum(len(r[3]) for r in rows)
    print(f"\n{len(rows)} resources created, {checked} properties checked, {len(failures)} differences"
          f"{': ' + ', '.join(failures) if failures else ''}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

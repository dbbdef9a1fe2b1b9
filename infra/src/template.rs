//! What `template.yaml` declares, read by the local stack and the tests so that nothing is
//! declared twice: the HTTP routes, the table, the queues and the SES identity.

use std::path::{Path, PathBuf};

use serde_yaml::Value;

#[derive(Debug)]
pub struct Template {
    root: Value,
}

/// API Gateway's route for requests that no other route takes.
pub const DEFAULT_ROUTE: &str = "$default";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    /// API Gateway path template, e.g. `/invitations/{id}/accept`.
    pub path: String,
    /// The cargo-lambda binary (= function crate) that serves it.
    pub binary: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySchema {
    pub hash: String,
    pub range: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSpec {
    pub attributes: Vec<(String, String)>,
    pub key: KeySchema,
    pub indexes: Vec<IndexSpec>,
    pub stream_view_type: Option<String>,
    pub ttl_attribute: Option<String>,
}

/// A global secondary index: its name, key and projection (`ALL` or `KEYS_ONLY`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexSpec {
    pub name: String,
    pub key: KeySchema,
    pub projection: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueSpec {
    pub logical_id: String,
    pub visibility_timeout: Option<u64>,
    pub retention_period: Option<u64>,
    /// (logical id of the dead-letter queue, maxReceiveCount)
    pub redrive: Option<(String, u64)>,
}

/// Table properties the local stack knows how to create. Anything else in the template fails
/// loudly instead of being silently left out locally.
const KNOWN_TABLE_PROPERTIES: &[&str] = &[
    "BillingMode",
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "StreamSpecification",
    "TimeToLiveSpecification",
    "PointInTimeRecoverySpecification",
];
/// `SqsManagedSseEnabled` (encryption at rest) has no local counterpart to create.
const KNOWN_QUEUE_PROPERTIES: &[&str] = &["VisibilityTimeout", "MessageRetentionPeriod", "RedrivePolicy", "SqsManagedSseEnabled"];

fn s(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn u(v: &Value) -> Option<u64> {
    s(v).and_then(|s| s.parse().ok())
}

fn key_schema(v: &Value) -> Result<KeySchema, String> {
    let entries = v.as_sequence().ok_or("KeySchema must be a list")?;
    let find = |kind: &str| entries.iter().find(|e| e["KeyType"].as_str() == Some(kind)).and_then(|e| s(&e["AttributeName"]));
    Ok(KeySchema { hash: find("HASH").ok_or("KeySchema has no HASH key")?, range: find("RANGE") })
}

/// The logical id a `!GetAtt X.Arn` names.
fn get_att_target(v: &Value) -> Option<String> {
    match v {
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => s(&tagged.value).and_then(|t| t.split('.').next().map(str::to_string)),
        _ => None,
    }
}

impl Template {
    /// `template.yaml` at the workspace root.
    pub fn path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("template.yaml")
    }

    pub fn load() -> Result<Template, String> {
        Template::from_file(&Template::path())
    }

    pub fn from_file(path: &Path) -> Result<Template, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Template::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Template, String> {
        Ok(Template { root: serde_yaml::from_str(text).map_err(|e| format!("template.yaml: {e}"))? })
    }

    fn resources_of_type<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (String, &'a Value)> + 'a {
        self.root["Resources"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter(move |(_, r)| r["Type"].as_str() == Some(kind))
            .filter_map(|(id, r)| Some((s(id)?, r)))
    }

    /// Every `HttpApi` event of every function, with the binary that serves it.
    /// Every route but `$default` (see `default_route`).
    pub fn routes(&self) -> Result<Vec<Route>, String> {
        Ok(self.all_routes()?.into_iter().filter(|r| r.path != DEFAULT_ROUTE).collect())
    }

    /// The route for requests no other route takes, if the template has one.
    pub fn default_route(&self) -> Result<Option<Route>, String> {
        Ok(self.all_routes()?.into_iter().find(|r| r.path == DEFAULT_ROUTE))
    }

    fn all_routes(&self) -> Result<Vec<Route>, String> {
        let mut routes = vec![];
        for (id, function) in self.resources_of_type("AWS::Serverless::Function") {
            let binary = s(&function["Metadata"]["BuildProperties"]["Binary"]).ok_or(format!("{id}: no Metadata.BuildProperties.Binary"))?;
            for (_, event) in function["Properties"]["Events"].as_mapping().into_iter().flatten() {
                if event["Type"].as_str() == Some("HttpApi") {
                    let props = &event["Properties"];
                    let method = s(&props["Method"]).ok_or(format!("{id}: HttpApi event without Method"))?.to_uppercase();
                    let path = s(&props["Path"]).ok_or(format!("{id}: HttpApi event without Path"))?;
                    routes.push(Route { method, path, binary: binary.clone() });
                }
            }
        }
        Ok(routes)
    }

    /// The binaries of every function in the template.
    pub fn binaries(&self) -> Vec<String> {
        self.resources_of_type("AWS::Serverless::Function").filter_map(|(_, f)| s(&f["Metadata"]["BuildProperties"]["Binary"])).collect()
    }

    /// The one DynamoDB table.
    pub fn table(&self) -> Result<TableSpec, String> {
        let tables: Vec<_> = self.resources_of_type("AWS::DynamoDB::Table").collect();
        let [(id, table)] = tables.as_slice() else { return Err(format!("expected one table, found {}", tables.len())) };
        let props = &table["Properties"];
        for (name, _) in props.as_mapping().into_iter().flatten() {
            let name = s(name).unwrap_or_default();
            if !KNOWN_TABLE_PROPERTIES.contains(&name.as_str()) {
                return Err(format!("{id}: the local stack does not know table property {name}"));
            }
        }
        let attributes = props["AttributeDefinitions"]
            .as_sequence()
            .ok_or("AttributeDefinitions must be a list")?
            .iter()
            .map(|a| Some((s(&a["AttributeName"])?, s(&a["AttributeType"])?)))
            .collect::<Option<Vec<_>>>()
            .ok_or("bad AttributeDefinitions")?;
        let mut indexes = vec![];
        for index in props["GlobalSecondaryIndexes"].as_sequence().into_iter().flatten() {
            let projection = s(&index["Projection"]["ProjectionType"]).filter(|p| p == "ALL" || p == "KEYS_ONLY").ok_or("an index projects ALL or KEYS_ONLY")?;
            indexes.push(IndexSpec { name: s(&index["IndexName"]).ok_or("index without IndexName")?, key: key_schema(&index["KeySchema"])?, projection });
        }
        let ttl = &props["TimeToLiveSpecification"];
        Ok(TableSpec {
            attributes,
            key: key_schema(&props["KeySchema"])?,
            indexes,
            stream_view_type: s(&props["StreamSpecification"]["StreamViewType"]),
            ttl_attribute: if ttl["Enabled"].as_bool() == Some(true) { s(&ttl["AttributeName"]) } else { None },
        })
    }

    /// Every SQS queue, dead-letter queues included.
    pub fn queues(&self) -> Result<Vec<QueueSpec>, String> {
        let mut queues = vec![];
        for (id, queue) in self.resources_of_type("AWS::SQS::Queue") {
            let props = &queue["Properties"];
            for (name, _) in props.as_mapping().into_iter().flatten() {
                let name = s(name).unwrap_or_default();
                if !KNOWN_QUEUE_PROPERTIES.contains(&name.as_str()) {
                    return Err(format!("{id}: the local stack does not know queue property {name}"));
                }
            }
            let redrive = &props["RedrivePolicy"];
            let redrive = match redrive {
                Value::Null => None,
                _ => Some((
                    get_att_target(&redrive["deadLetterTargetArn"]).ok_or(format!("{id}: deadLetterTargetArn must be !GetAtt <Queue>.Arn"))?,
                    u(&redrive["maxReceiveCount"]).ok_or(format!("{id}: maxReceiveCount"))?,
                )),
            };
            queues.push(QueueSpec {
                logical_id: id,
                visibility_timeout: u(&props["VisibilityTimeout"]),
                retention_period: u(&props["MessageRetentionPeriod"]),
                redrive,
            });
        }
        Ok(queues)
    }

    /// The batch size of a function's stream event source (DynamoDB or Kinesis).
    pub fn stream_batch_size(&self, function: &str) -> Option<usize> {
        let events = self.root["Resources"][function]["Properties"]["Events"].as_mapping()?;
        events.values().find(|e| e["Type"].as_str() == Some("DynamoDB")).and_then(|e| e["Properties"]["BatchSize"].as_u64()).map(|n| n as usize)
    }

    /// A parameter's default value.
    pub fn parameter_default(&self, name: &str) -> Option<String> {
        s(&self.root["Parameters"][name]["Default"])
    }

    /// The email identities the template verifies, resolved against parameter defaults.
    pub fn email_identities(&self) -> Vec<String> {
        self.resources_of_type("AWS::SES::EmailIdentity")
            .filter_map(|(_, r)| match &r["Properties"]["EmailIdentity"] {
                Value::Tagged(t) if t.tag == "Ref" => s(&t.value).and_then(|p| self.parameter_default(&p)),
                other => s(other),
            })
            .collect()
    }
}

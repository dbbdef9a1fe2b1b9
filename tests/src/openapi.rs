//! openapi.yaml as the tests see it: every response the local API gives in any test is checked
//! against the document (its status must be documented for that operation, its body must match
//! the schema), and recorded so that `tests/tests/api/openapi.rs` can check that every documented status
//! code was produced by some test.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::sync::{Arc, LazyLock, Mutex};

use serde_json::Value;

pub struct OpenApi {
    document: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

pub static OPENAPI: LazyLock<OpenApi> = LazyLock::new(|| {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml");
    let text = std::fs::read_to_string(&path).expect("openapi.yaml");
    let document: Value = serde_yaml::from_str(&text).expect("openapi.yaml is YAML");
    OpenApi { document, validators: Mutex::new(HashMap::new()) }
});

/// JSON Pointer escaping of one reference token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

impl OpenApi {
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// Every (method, path, status) the document promises.
    pub fn documented(&self) -> BTreeSet<(String, String, u16)> {
        let mut all = BTreeSet::new();
        for (path, item) in self.document["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                for status in operation["responses"].as_object().into_iter().flatten().map(|(s, _)| s) {
                    if let Ok(status) = status.parse() {
                        all.insert((method.to_uppercase(), path.clone(), status));
                    }
                }
            }
        }
        all
    }

    /// Whether the operation has a request body.
    pub fn takes_body(&self, method: &str, path: &str) -> bool {
        let pointer = format!("/paths/{}/{}/requestBody", escape(path), method.to_lowercase());
        self.document.pointer(&pointer).is_some()
    }

    /// The JSON Pointer of the response schema for `status`, following a `$ref`'d response;
    /// `None` for a response documented without a JSON body (a 204, a redirect, an HTML page),
    /// with the check that stands for the schema.
    fn schema_pointer(&self, method: &str, path: &str, status: u16, body: &Value) -> Result<Option<String>, String> {
        let operation = format!("/paths/{}/{}", escape(path), method.to_lowercase());
        let response = format!("{operation}/responses/{status}");
        let mut target = self.document.pointer(&response).ok_or(format!("{method} {path}: status {status} is not documented"))?;
        let mut pointer = response.clone();
        if let Some(reference) = target["$ref"].as_str() {
            pointer = reference.trim_start_matches('#').to_string();
            target = self.document.pointer(&pointer).ok_or(format!("dangling {reference}"))?;
        }
        let content = &target["content"];
        if content.is_null() {
            return if body.is_null() { Ok(None) } else { Err(format!("{method} {path} {status}: documented without a body, got {body}")) };
        }
        let document = ["text/html", "application/yaml", "text/plain", "text/csv"].iter().any(|t| content[*t].is_object());
        let json = content["application/json"]["schema"].is_object();
        // A text body is the page or document; a JSON one (parsed) meets the JSON schema, when
        // the operation answers both (content negotiation).
        if body.is_string() && document {
            return Ok(None);
        }
        if !json {
            return Err(format!("{method} {path} {status}: documented as a page or document, got {body}"));
        }
        Ok(Some(format!("{pointer}/content/application~1json/schema")))
    }

    /// Checks one response of the operation `method path` (a template path of the document).
    pub fn check(&self, method: &str, path: &str, status: u16, body: &Value) -> Result<(), String> {
        let Some(pointer) = self.schema_pointer(method, path, status, body)? else { return Ok(()) };
        let validator = {
            let mut cache = self.validators.lock().expect("validator cache");
            match cache.get(&pointer) {
                Some(v) => v.clone(),
                None => {
                    let mut root = self.document.clone();
                    // A URI fragment: the braces of path templates must be percent-encoded.
                    let fragment = pointer.replace('{', "%7B").replace('}', "%7D");
                    root["$ref"] = Value::String(format!("#{fragment}"));
                    let validator = jsonschema::options()
                        .with_draft(jsonschema::Draft::Draft202012)
                        .build(&root)
                        .map_err(|e| format!("schema at {pointer}: {e}"))?;
                    let validator = Arc::new(validator);
                    cache.insert(pointer.clone(), validator.clone());
                    validator
                }
            }
        };
        let errors: Vec<String> = validator.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        if errors.is_empty() { Ok(()) } else { Err(format!("{method} {path} {status} does not match openapi.yaml: {}", errors.join("; "))) }
    }
}

/// Appends a checked response to the file in `OPENAPI_RECORD` (set by infra/test).
pub fn record(method: &str, path: &str, status: u16) {
    let Ok(file) = std::env::var("OPENAPI_RECORD") else { return };
    let line = serde_json::json!({ "method": method, "path": path, "status": status }).to_string();
    if let Ok(mut out) = std::fs::OpenOptions::new().create(true).append(true).open(file) {
        // One write per line: appends from parallel tests do not interleave.
        let _ = out.write_all(format!("{line}\n").as_bytes());
    }
}

//! Renders openapi.yaml into one static HTML page: every operation by tag, with its parameters,
//! body and responses; then the schemas. Everything from the document is HTML-escaped.

use serde_json::Value;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn text(value: &Value) -> String {
    escape(value.as_str().unwrap_or_default().trim())
}

/// `#/components/x/Name` → `Name`, linked when it is a schema.
fn reference(value: &Value) -> Option<String> {
    let target = value["$ref"].as_str()?;
    let name = escape(target.rsplit('/').next()?);
    Some(if target.starts_with("#/components/schemas/") { format!("<a href=\"#schema-{name}\">{name}</a>") } else { name })
}

/// What a parameter or response points at, resolved one level.
fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(target) => document.pointer(target.trim_start_matches('#')).unwrap_or(value),
        None => value,
    }
}

fn schema_summary(schema: &Value) -> String {
    reference(schema).or_else(|| reference(&schema["items"]).map(|r| format!("array of {r}"))).unwrap_or_else(|| {
        let json = serde_json::to_string(schema).unwrap_or_default();
        format!("<code>{}</code>", escape(&json))
    })
}

/// `value` with every `$ref` in its first level followed.
fn followed<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    let mut value = value;
    for _ in 0..8 {
        match value["$ref"].as_str() {
            Some(target) => value = document.pointer(target.trim_start_matches('#')).unwrap_or(&Value::Null),
            None => break,
        }
    }
    value
}

/// A value a client could send for `schema`: the first of each choice, every required property
/// (or the first three when none is), one item per array.
fn example(document: &Value, schema: &Value, name: &str, depth: usize) -> Value {
    let named = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()).unwrap_or_default();
    match named {
        "Id" | "NullableId" => return "01a2435e2ccd011b35b86984".into(),
        "Email" => return "partner@example.com".into(),
        "Phone" => return "+1 555 010 0100".into(),
        "Timestamp" | "NullableTimestamp" => return "2026-01-01T00:00:00Z".into(),
        _ => {}
    }
    let schema = followed(document, schema);
    if depth > 6 {
        return Value::Null;
    }
    if let Some(value) = schema.get("example").or(schema.get("const")).or(schema.get("default")) {
        return value.clone();
    }
    if let Some(first) = schema["enum"].as_array().and_then(|v| v.first()) {
        return first.clone();
    }
    for choice in ["anyOf", "oneOf", "allOf"].into_iter().filter(|_| !schema["properties"].is_object()) {
        if let Some(first) = schema[choice].as_array().and_then(|v| v.iter().find(|s| s["type"] != "null")) {
            let mut value = example(document, first, name, depth + 1);
            if choice == "allOf" {
                for extra in schema[choice].as_array().into_iter().flatten().skip(1) {
                    if let (Some(into), Value::Object(more)) = (value.as_object_mut(), example(document, extra, name, depth + 1)) {
                        into.extend(more);
                    }
                }
            }
            return value;
        }
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds.iter().find(|k| *k != "null").and_then(Value::as_str).unwrap_or("string"),
        kind => kind.as_str().unwrap_or(if schema["properties"].is_object() { "object" } else { "string" }),
    };
    match kind {
        "object" => {
            let properties = schema["properties"].as_object();
            // An object that asks for one of several fields (`oneOf: [{required: [email]}, …]`): the first.
            let alternative = ["oneOf", "anyOf"].iter().find_map(|c| schema[*c].as_array()?.first()?["required"].as_array());
            let required: Vec<&str> = schema["required"].as_array().into_iter().chain(alternative).flatten().filter_map(Value::as_str).collect();
            let chosen: Vec<&String> = properties.into_iter().flatten().map(|(k, _)| k).filter(|k| required.contains(&k.as_str())).collect();
            let chosen = if chosen.is_empty() { properties.into_iter().flatten().map(|(k, _)| k).take(3).collect() } else { chosen };
            Value::Object(chosen.into_iter().map(|k| (k.clone(), example(document, &schema["properties"][k.as_str()], k, depth + 1))).collect())
        }
        "array" => Value::Array(vec![example(document, &schema["items"], name, depth + 1)]),
        "integer" | "number" => 1.into(),
        "boolean" => true.into(),
        _ if name.contains("url") => "https://example.com/hooks".into(),
        _ if name.contains("email") => "partner@example.com".into(),
        _ if name.contains("name") => "Acme Leads".into(),
        _ => "text".into(),
    }
}

/// The request as curl sends it, against `$API_URL` with the key in `$API_KEY`.
fn curl(document: &Value, method: &str, path: &str, op: &Value, parameters: &[&Value], body: Option<&Value>) -> String {
    let mut url = path.to_string();
    for parameter in parameters.iter().map(|p| resolve(document, p)).filter(|p| p["in"] == "path") {
        let name = parameter["name"].as_str().unwrap_or_default();
        let value = example(document, &parameter["schema"], name, 0);
        url = url.replace(&format!("{{{name}}}"), value.as_str().unwrap_or("01a2435e2ccd011b35b86984"));
    }
    let mut command = match method {
        "get" => format!("curl \"$API_URL{url}\""),
        _ => format!("curl -X {} \"$API_URL{url}\"", method.to_uppercase()),
    };
    // Public operations (`security: []`, or a key optional: `{}` among the choices) go without one.
    let public = op["security"].as_array().is_some_and(|s| s.is_empty() || s.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty())));
    if !public {
        command += " \\\n  -H \"Authorization: Bearer $API_KEY\"";
    }
    if parameters.iter().map(|p| resolve(document, p)).any(|p| p["name"] == "Idempotency-Key") {
        command += " \\\n  -H \"Idempotency-Key: $(uuidgen)\"";
    }
    if let Some(schema) = body {
        let json = serde_json::to_string(&example(document, schema, "", 0)).unwrap_or_default();
        command += &format!(" \\\n  -H \"Content-Type: application/json\" \\\n  -d '{json}'");
    }
    command
}

/// A JSON body's fields as a table: name, type, required, description.
fn body_fields(document: &Value, schema: &Value) -> String {
    let schema = followed(document, schema);
    let Some(properties) = schema["properties"].as_object() else { return String::new() };
    let required: Vec<&str> = schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let mut html = String::from("<div class=\"scroll\"><table><tr><th>Field</th><th>Type</th><th>Required</th><th>Description</th></tr>");
    for (name, property) in properties {
        let kind = reference(property).unwrap_or_else(|| {
            let resolved = followed(document, property);
            match (&resolved["type"], resolved["enum"].as_array()) {
                (_, Some(values)) => format!("one of {}", escape(&values.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "))),
                (Value::String(t), None) => escape(t),
                (Value::Array(ts), None) => escape(&ts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" or ")),
                _ => "value".into(),
            }
        });
        let mark = if required.contains(&name.as_str()) { "yes" } else { "no" };
        html += &format!("<tr><td><code>{}</code></td><td>{kind}</td><td>{mark}</td><td>{}</td></tr>", escape(name), text(&followed(document, property)["description"]));
    }
    html + "</table></div>"
}

fn operation(document: &Value, method: &str, path: &str, op: &Value, shared_parameters: &Value) -> String {
    let mut html = format!(
        "<section class=\"op\" id=\"{id}\"><h3><span class=\"method {method}\">{upper}</span> <code>{path}</code></h3><p>{summary}</p>",
        id = text(&op["operationId"]),
        upper = method.to_uppercase(),
        path = escape(path),
        summary = text(&op["summary"]),
    );
    if op["description"].is_string() {
        html += &format!("<p>{}</p>", text(&op["description"]));
    }
    if op["security"].as_array().is_some_and(Vec::is_empty) {
        html += "<p class=\"public\">Public: no API key.</p>";
    }
    let parameters: Vec<&Value> = shared_parameters.as_array().into_iter().flatten().chain(op["parameters"].as_array().into_iter().flatten()).collect();
    if !parameters.is_empty() {
        html += "<div class=\"scroll\"><table><tr><th>Parameter</th><th>In</th><th>Schema</th><th>Description</th></tr>";
        for parameter in &parameters {
            let p = resolve(document, parameter);
            let required = if p["required"].as_bool() == Some(true) { " (required)" } else { "" };
            html += &format!(
                "<tr><td><code>{}</code>{required}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                text(&p["name"]),
                text(&p["in"]),
                schema_summary(&p["schema"]),
                text(&p["description"])
            );
        }
        html += "</table></div>";
    }
    let body = op.pointer("/requestBody/content/application~1json/schema");
    if let Some(schema) = body {
        html += &format!("<p><strong>Body:</strong> {}</p>", schema_summary(schema));
        html += &body_fields(document, schema);
    }
    if method != "head" {
        let example = curl(document, method, path, op, &parameters, body);
        html += &format!("<p><strong>Example</strong></p><pre tabindex=\"0\" aria-label=\"Example: {} {}\">{}</pre>", method.to_uppercase(), escape(path), escape(&example));
    }
    html += "<div class=\"scroll\"><table><tr><th>Status</th><th>Response</th></tr>";
    for (status, response) in op["responses"].as_object().into_iter().flatten() {
        let r = resolve(document, response);
        let body = r.pointer("/content/application~1json/schema").map(|s| format!(" — {}", schema_summary(s))).unwrap_or_default();
        html += &format!("<tr><td>{}</td><td>{}{body}</td></tr>", escape(status), text(&r["description"]));
    }
    html + "</table></div></section>"
}

/// The pages' icon (pages/layout.html has the same).
const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='7' fill='%231f5fbf'/%3E%3Ccircle cx='11' cy='16' r='5' fill='%23fff'/%3E%3Ccircle cx='21' cy='16' r='5' fill='none' stroke='%23fff' stroke-width='2.5'/%3E%3C/svg%3E";

/// What every integrator reads first: where the API is, how to authenticate, how it answers.
const GETTING_STARTED: &str = "<h2 id=\"start\">Getting started</h2>\
<h3>Base URL</h3><p>Every path below is relative to your API's base URL: the <code>ApiUrl</code> output of <code>sam deploy</code> \
(or your custom domain), or <code>http://127.0.0.1:3000</code> for <code>infra/run</code>. The examples read it from <code>$API_URL</code>.</p>\
<h3>Authentication</h3><p>Programs send an API key of their account: <code>Authorization: Bearer sk_live_…</code> \
(or HTTP Basic with the key as the password). Make and revoke keys in Settings → APIs and keys (<a href=\"/settings/apis\">/settings/apis</a>, \
after signing in with your email address) or with <code>POST /api-keys</code>; a key is shown once. The examples read it from <code>$API_KEY</code>. \
Operations marked <em>Public</em> need no key (a link's token or a provider's signature stands for it). People signed in to the dashboard \
call the same operations with their session cookie; a request that changes something then also carries the page's <code>X-CSRF-Token</code>.</p>\
<h3>Answers</h3><p>Bodies are JSON. Every error is <code>{\"error\": \"…\", \"details\": \"…\"}</code> with the status listed for the operation; \
a 422's details name the field first (<code>email: …</code>). Lists are arrays, newest first; the next page's cursor is in \
<code>X-Next-Cursor</code>. A POST that creates something takes an <code>Idempotency-Key</code>: send the same key when you retry, \
and the first answer is replayed instead of doing it twice. Each key may make 100 requests a minute (429 and <code>Retry-After</code> beyond); \
a 503 means try again after <code>Retry-After</code>.</p>\
<h3>A first call</h3><pre tabindex=\"0\" aria-label=\"Example: the calling account\">curl \"$API_URL/account\" -H \"Authorization: Bearer $API_KEY\"</pre>";

/// `$OUT_DIR/docs.html`.
pub fn render() {
    let source = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../openapi.yaml");
    println!("cargo:rerun-if-changed={}", source.display());
    let document: Value = serde_yaml::from_str(&std::fs::read_to_string(&source).expect("openapi.yaml")).expect("openapi.yaml is YAML");
    let mut body = format!("<h1>{}</h1><p>{}</p>", text(&document["info"]["title"]), text(&document["info"]["description"]));
    body += GETTING_STARTED;
    body += "<p>The contract itself, for code generators and API tools: <a href=\"openapi.yaml\">openapi.yaml</a>.</p><nav aria-label=\"Sections\"><ul><li><a href=\"#start\">Getting started</a></li>";
    let tags: Vec<&Value> = document["tags"].as_array().into_iter().flatten().collect();
    for tag in &tags {
        body += &format!("<li><a href=\"#tag-{0}\">{0}</a></li>", text(&tag["name"]));
    }
    body += "<li><a href=\"#schemas\">Schemas</a></li></ul></nav>";
    for tag in &tags {
        let name = tag["name"].as_str().unwrap_or_default();
        body += &format!("<h2 id=\"tag-{0}\">{0}</h2><p>{1}</p>", escape(name), text(&tag["description"]));
        for (path, item) in document["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten().filter(|(m, _)| *m != "parameters") {
                if op["tags"].as_array().is_some_and(|t| t.iter().any(|t| t == name)) {
                    body += &operation(&document, method, path, op, &item["parameters"]);
                }
            }
        }
    }
    body += "<h2 id=\"schemas\">Schemas</h2>";
    for (name, schema) in document["components"]["schemas"].as_object().into_iter().flatten() {
        let json = serde_json::to_string_pretty(schema).unwrap_or_default();
        body += &format!("<h3 id=\"schema-{0}\">{0}</h3><pre tabindex=\"0\" aria-label=\"Schema {0}\">{1}</pre>", escape(name), escape(&json));
    }
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>API reference · Partner Onboarding</title><link rel=\"icon\" href=\"{FAVICON}\"><style>\
         body{{font:15px/1.5 system-ui,sans-serif;margin:0;color:#222}}main{{max-width:60rem;margin:0 auto;padding:1rem}}\
         header{{border-bottom:1px solid #8a8f98}}.brand{{max-width:60rem;margin:0 auto;padding:.6rem 1rem;font-weight:700;color:#1f5fbf}}\
         code,pre{{font:13px ui-monospace,monospace;overflow-wrap:anywhere}}pre{{background:#f6f6f6;padding:.5rem;white-space:pre-wrap;max-height:30rem;overflow:auto}}\
         .scroll{{overflow-x:auto}}table{{border-collapse:collapse;margin:.5rem 0}}td,th{{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}}\
         .op{{border-top:1px solid #ccc;padding-top:.5rem}}.method{{font-weight:bold;padding:0 .3rem;border-radius:3px;background:#e8eef8}}\
         .post{{background:#e5f5e8}}.put{{background:#fbf1dc}}.delete{{background:#fbe3e3}}.public{{color:#8a4b00}}:focus-visible{{outline:3px solid #f9ab00}}\
         </style></head><body><header><p class=\"brand\">Partner Onboarding</p></header><main>{body}</main></body></html>",
    );
    std::fs::write(std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("docs.html"), page).expect("docs.html");
}

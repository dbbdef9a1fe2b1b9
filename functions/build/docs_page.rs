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
        html += "<table><tr><th>Parameter</th><th>In</th><th>Schema</th><th>Description</th></tr>";
        for parameter in parameters {
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
        html += "</table>";
    }
    if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
        html += &format!("<p><strong>Body:</strong> {}</p>", schema_summary(schema));
    }
    html += "<table><tr><th>Status</th><th>Response</th></tr>";
    for (status, response) in op["responses"].as_object().into_iter().flatten() {
        let r = resolve(document, response);
        let body = r.pointer("/content/application~1json/schema").map(|s| format!(" — {}", schema_summary(s))).unwrap_or_default();
        html += &format!("<tr><td>{}</td><td>{}{body}</td></tr>", escape(status), text(&r["description"]));
    }
    html + "</table></section>"
}

/// `$OUT_DIR/docs.html`.
pub fn render() {
    let source = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../openapi.yaml");
    println!("cargo:rerun-if-changed={}", source.display());
    let document: Value = serde_yaml::from_str(&std::fs::read_to_string(&source).expect("openapi.yaml")).expect("openapi.yaml is YAML");
    let mut body = format!("<h1>{}</h1><p>{}</p>", text(&document["info"]["title"]), text(&document["info"]["description"]));
    body += "<p>The contract itself: <a href=\"openapi.yaml\">openapi.yaml</a>.</p><nav><ul>";
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
        body += &format!("<h3 id=\"schema-{0}\">{0}</h3><pre>{1}</pre>", escape(name), escape(&json));
    }
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title} — API reference</title><style>\
         body{{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}\
         code,pre{{font:13px ui-monospace,monospace}}pre{{background:#f6f6f6;padding:.5rem;overflow:auto}}\
         table{{border-collapse:collapse;margin:.5rem 0}}td,th{{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}}\
         .op{{border-top:1px solid #ccc;padding-top:.5rem}}.method{{font-weight:bold;padding:0 .3rem;border-radius:3px;background:#e8eef8}}\
         .post{{background:#e5f5e8}}.put{{background:#fbf1dc}}.delete{{background:#fbe3e3}}.public{{color:#a15c00}}\
         </style></head><body>{body}</body></html>",
        title = text(&document["info"]["title"]),
    );
    std::fs::write(std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("docs.html"), page).expect("docs.html");
}

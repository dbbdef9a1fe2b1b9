//! `$OUT_DIR/routes.rs`: every route of template.yaml as `(method, path)`, for the `$default`
//! route's answer (405 with `Allow`, or 404), so that the template stays the one declaration.

use std::fmt::Write;

pub fn generate() {
    let path = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../template.yaml");
    println!("cargo:rerun-if-changed={}", path.display());
    let text = std::fs::read_to_string(&path).expect("template.yaml");
    let template: serde_yaml::Value = serde_yaml::from_str(&text).expect("template.yaml is YAML");
    let mut table = String::from("/// Every route of template.yaml, in its order.\npub const ROUTES: &[(&str, &str)] = &[\n");
    for (_, resource) in template["Resources"].as_mapping().expect("Resources").iter() {
        for (_, event) in resource["Properties"]["Events"].as_mapping().into_iter().flatten() {
            let properties = &event["Properties"];
            if let (Some("HttpApi"), Some(method), Some(path)) = (event["Type"].as_str(), properties["Method"].as_str(), properties["Path"].as_str()) {
                if path.starts_with('/') {
                    writeln!(table, "    ({:?}, {path:?}),", method.to_uppercase()).unwrap();
                }
            }
        }
    }
    table.push_str("];\n");
    std::fs::write(std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("routes.rs"), table).expect("routes.rs");
}

//! `$OUT_DIR/handlers.rs`: every HTTP function's handler by function name, read from its binary
//! (`src/bin/<function>.rs`, one line: `… serve(functions::<area>::<module>::<handler>) …`), so
//! the binaries are the one declaration of which handler serves which function.

use std::fmt::Write;

pub fn generate() {
    let dir = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("src/bin");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut binaries: Vec<_> = std::fs::read_dir(&dir).expect("src/bin").map(|e| e.expect("src/bin entry").path()).collect();
    binaries.sort();
    let mut entries = String::new();
    for path in binaries {
        let name = path.file_stem().and_then(|s| s.to_str()).expect("a binary's name");
        let source = std::fs::read_to_string(&path).expect("a binary's source");
        let handler = |serve: &str| Some(source.split_once(&format!("shared::platform::lambda::{serve}(functions::"))?.1.split_once(')')?.0.to_string());
        if let Some(handler) = handler("serve") {
            writeln!(entries, "        ({name:?}, http(env, crate::{handler})?),").unwrap();
        } else if handler("serve_events").is_none() {
            panic!("src/bin/{name}.rs must name its handler: shared::platform::lambda::serve(functions::…) or serve_events(functions::…)");
        }
    }
    let code = format!(
        "/// Every HTTP function's handler, by function name, each with its state built from `env`.\n\
         pub fn handlers(env: &Env) -> Result<HashMap<&'static str, Handler>, ConfigError> {{\n    Ok(HashMap::from([\n{entries}    ]))\n}}\n"
    );
    std::fs::write(std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("handlers.rs"), code).expect("handlers.rs");
}

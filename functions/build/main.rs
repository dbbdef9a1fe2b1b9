//! Generated at build time: the docs page (from openapi.yaml) and the handler registry (from the
//! binaries in src/bin/).

mod docs_page;
mod registry;

fn main() {
    docs_page::render();
    registry::generate();
}

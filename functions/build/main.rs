//! Generated at build time: the docs page (from openapi.yaml), the pages people click (from
//! pages/) and the handler registry (from the binaries in src/bin/).

mod docs_page;
mod pages;
mod registry;

fn main() {
    docs_page::render();
    pages::render();
    registry::generate();
}

//! Generated at build time: the docs page (from openapi.yaml), the pages people click (from
//! pages/), the handler registry (from the binaries in src/bin/) and the route table (from
//! template.yaml).

mod docs_page;
mod pages;
mod registry;
mod routes;

fn main() {
    docs_page::render();
    pages::render();
    registry::generate();
    routes::generate();
}

//! The architecture the diagram describes: a typed graph of components (kinds from the
//! catalog in `targets/catalog/`) and connections with a meaning.

mod build;
pub mod catalog;
mod classify;
mod graph;
pub mod source_facts;

pub use build::{build, plain};
pub use catalog::{catalog, AppProfile, Catalog, Kind};
pub use classify::{attributes, classify, title_and_details, Decision, Evidence};
pub use graph::{label_port, Access, ArchGraph, Classification, Cloud, Component, Connection, Style};
pub use source_facts::SourceFacts;

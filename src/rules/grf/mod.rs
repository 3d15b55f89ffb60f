//! `GRF`: graph shape and classification.

pub(crate) mod ambiguous_component;
pub(crate) mod component_outside_cloud;
pub(crate) mod diagram_of_another_cloud;
pub(crate) mod duplicate_node_definition;
pub(crate) mod edge_to_undeclared_node;
pub(crate) mod line_dropped_by_mermaid;
pub(crate) mod misplaced_component;
pub(crate) mod orphan_node;
pub(crate) mod unknown_component;

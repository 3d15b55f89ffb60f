//! `SEC`: exposure of control planes and data.

pub(crate) mod public_eks_endpoint;

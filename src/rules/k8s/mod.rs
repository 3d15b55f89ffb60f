//! `K8S`: Kubernetes wiring.

pub(crate) mod clusterip_service_behind_alb;

//! `NET`: network paths: subnets, gateways, routes, what the internet reaches.

pub(crate) mod data_store_in_public_subnet;
pub(crate) mod data_store_reached_outside_app_tier;
pub(crate) mod data_subnet_with_internet_route;
pub(crate) mod internet_reaches_private_component;
pub(crate) mod load_balancer_outside_public_subnet;
pub(crate) mod nat_gateway_in_private_subnet;
pub(crate) mod nat_gateway_without_internet_gateway;
pub(crate) mod private_subnet_without_egress;

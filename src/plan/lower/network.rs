//! The network stack: VPC, subnets (each subnet box → one subnet per AZ, in the range its
//! label writes when it writes one that fits, else in a range carved around those), internet
//! gateway, NAT gateways (one per AZ by default), route tables: public → IGW, app → the NAT
//! of its AZ when a box in the tier has an arrow to a NAT gateway, data → local only.

use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use serde_json::{json, Value};

use crate::diagnostic::{codes, Diagnostic, Severity};
use crate::model::Style;
use crate::plan::cfn::{get_att, join, r, sub, tags};
use crate::plan::names::pascal;
use crate::plan::{Lowering, Parameter, Resource, StackId};

const NET: StackId = StackId::Network;

/// A subnet box and the subnets it becomes.
#[derive(Debug, Clone)]
pub(super) struct SubnetGroup {
    pub(super) node: NodeIndex,
    /// The name its resources take (the subnet box's id, or `public`/`private` in archc's
    /// layout for a VPC that draws no subnets).
    pub(super) id: String,
    /// The diagram node its resources come from (the box, or the VPC).
    pub(super) owner: String,
    /// archc's layout, not a drawn box.
    pub(super) synthetic: bool,
    /// The boxes it stands for: the box, or one box per AZ (same-tier boxes drawn one inside
    /// each Availability Zone box), or the VPC for archc's layout.
    pub(super) members: Vec<NodeIndex>,
    /// The diagram node each subnet comes from, by AZ.
    pub(super) owners: Vec<String>,
    pub(super) tier: String,
    /// Logical ids, one per AZ.
    pub(super) subnets: Vec<String>,
}

impl SubnetGroup {
    /// Whether box `n` is one of the boxes the group stands for.
    pub(super) fn contains(&self, n: NodeIndex) -> bool {
        self.members.contains(&n)
    }
}

/// IPv4 helpers for carving subnet CIDRs out of the VPC CIDR.
fn parse_cidr(cidr: &str) -> Option<(u32, u8)> {
    let (addr, len) = cidr.split_once('/')?;
    let octets: Vec<u32> = addr.split('.').map(|o| o.parse().ok()).collect::<Option<_>>()?;
    if octets.len() != 4 || octets.iter().any(|o| *o > 255) {
        return None;
    }
    let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
    Some(((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3], len))
}

fn format_cidr(addr: u32, len: u8) -> String {
    format!("{}.{}.{}.{}/{}", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255, addr & 255, len)
}

/// The IPv4 ranges written in a label (`Public Subnet 10.0.1.0/24`).
fn label_cidrs(label: &str) -> Vec<(u32, u8)> {
    static CIDR: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| crate::constant_regex(r"\b(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/\d{1,2})\b"));
    CIDR.captures_iter(label).filter_map(|c| c.get(1)).filter_map(|m| parse_cidr(m.as_str())).collect()
}

/// What a NAT gateway's label says of their number: `Some(false)` for one ("Single NAT
/// Gateway"), `Some(true)` for one per AZ ("NAT per AZ", "NAT Gateway in each AZ"), `None`.
fn nat_label(label: &str) -> Option<bool> {
    let lower = label.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    if words.contains(&"single") {
        return Some(false);
    }
    let per_az = words.windows(2).any(|w| matches!(w, ["per" | "each" | "every", "az" | "availability"]))
        || words.windows(3).any(|w| matches!(w, ["in", "each" | "every", "az" | "availability"]));
    per_az.then_some(true)
}

/// Whether two ranges share an address.
fn overlaps((a, al): (u32, u8), (b, bl): (u32, u8)) -> bool {
    let len = al.min(bl);
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) };
    a & mask == b & mask
}

/// The subnets of a box from the ranges in its label: one range per AZ, or one range shared
/// by the AZs (split into equal aligned blocks); each a network address inside the VPC that
/// no other subnet uses. The reason when not.
fn labelled_blocks(
    ranges: &[(u32, u8)],
    azs: usize,
    vpc: (u32, u8),
    taken: &[(u32, u8)],
) -> Result<Vec<(u32, u8)>, String> {
    if let Some(&(a, len)) = ranges.iter().find(|&&(a, len)| len < vpc.1 || !overlaps((a, len), vpc)) {
        return Err(format!("{} is outside the VPC's {}", format_cidr(a, len), format_cidr(vpc.0, vpc.1)));
    }
    let blocks = match ranges {
        [one] if azs > 1 => {
            let bits = u8::try_from(azs.next_power_of_two().trailing_zeros()).unwrap_or(u8::MAX);
            let len = one.1.saturating_add(bits);
            if len > 28 {
                return Err(format!(
                    "{} is too small for {azs} AZs (a subnet is a /28 at least)",
                    format_cidr(one.0, one.1)
                ));
            }
            let size = 1u32 << (32 - u32::from(len));
            (0..azs).map(|i| (one.0.wrapping_add(size.wrapping_mul(u32::try_from(i).unwrap_or(0))), len)).collect()
        }
        many if many.len() == azs => many.to_vec(),
        many => return Err(format!("{} ranges for {azs} AZs", many.len())),
    };
    for &(a, len) in &blocks {
        let cidr = format_cidr(a, len);
        if !(16..=28).contains(&len) {
            return Err(format!("{cidr}: a subnet is a /16 to a /28"));
        }
        let host_bits = 32 - u32::from(len);
        if a & ((1u32 << host_bits) - 1) != 0 {
            return Err(format!("{cidr} is not a network address"));
        }
        if len < vpc.1 || !overlaps((a, len), vpc) {
            return Err(format!("{cidr} is outside the VPC's {}", format_cidr(vpc.0, vpc.1)));
        }
        if let Some(&t) =
            taken.iter().chain(blocks.iter().filter(|&&b| b != (a, len))).find(|&&t| overlaps(t, (a, len)))
        {
            return Err(format!("{cidr} overlaps {}", format_cidr(t.0, t.1)));
        }
    }
    Ok(blocks)
}

/// Subnet prefix length per tier for a VPC of `vpc_len` (a /16 gives app /19, public /22,
/// data /24: the VPC CNI gives every pod a VPC address, so app subnets are large).
fn tier_prefix(tier: &str, vpc_len: u8) -> u8 {
    let extra = match tier {
        "app" => 3,
        "public" => 6,
        _ => 8,
    };
    (vpc_len + extra).min(28)
}

/// Allocate `count` blocks of `/len` from `next` within the VPC, aligned.
fn allocate(next: &mut u32, len: u8) -> u32 {
    let size = 1u32 << (32 - u32::from(len));
    let start = next.div_ceil(size) * size;
    *next = start + size;
    start
}

pub(super) fn subnet_groups(l: &Lowering<'_>) -> Vec<SubnetGroup> {
    subnet_groups_of(l.graph, l.settings)
}

/// The drawn subnets `n` sits in (its box's group), else every drawn subnet of `tier`: (logical
/// id, the box it comes from, its tier, its AZ from 1). Empty when the diagram draws no subnet.
pub(crate) fn drawn_subnets(
    graph: &crate::model::ArchGraph,
    settings: &crate::plan::Settings,
    n: NodeIndex,
    tier: &str,
) -> Vec<(String, String, String, usize)> {
    let groups: Vec<SubnetGroup> = subnet_groups_of(graph, settings).into_iter().filter(|g| !g.synthetic).collect();
    let around = graph.enclosing(n, "aws.subnet");
    let chosen: Vec<&SubnetGroup> = match around.and_then(|s| groups.iter().find(|g| g.contains(s))) {
        Some(g) => vec![g],
        None => groups.iter().filter(|g| g.tier == tier).collect(),
    };
    chosen
        .into_iter()
        .flat_map(|g| {
            g.subnets.iter().zip(&g.owners).enumerate().map(|(i, (s, o))| (s.clone(), o.clone(), g.tier.clone(), i + 1))
        })
        .collect()
}

/// The subnet groups of the diagram: each subnet box stands for one subnet per AZ, except
/// same-tier boxes drawn one inside each Availability Zone box (as many AZ boxes as AZs), which
/// together stand for one subnet per AZ, each box its own AZ's.
fn subnet_groups_of(graph: &crate::model::ArchGraph, settings: &crate::plan::Settings) -> Vec<SubnetGroup> {
    let az = settings.az_count;
    let tier_order = |t: &str| match t {
        "app" => 0,
        "public" => 1,
        _ => 2,
    };
    let tier_of = |n: NodeIndex| graph.component(n).attr("tier").unwrap_or("app").to_string();
    let boxes: Vec<NodeIndex> = graph.of_kind("aws.subnet").collect();
    let mut zones: Vec<NodeIndex> = graph.of_kind("aws.availability-zone").collect();
    zones.sort_by_key(|&z| (graph.component(z).span.start, z.index()));
    let mut merged: Vec<Vec<NodeIndex>> = Vec::new();
    if az >= 2 && zones.len() == az {
        let mut tiers: Vec<String> = boxes.iter().map(|&b| tier_of(b)).collect();
        tiers.sort();
        tiers.dedup();
        for tier in tiers {
            let of_tier: Vec<NodeIndex> = boxes.iter().copied().filter(|&b| tier_of(b) == tier).collect();
            let per_zone: Vec<Vec<NodeIndex>> = zones
                .iter()
                .map(|&z| {
                    of_tier
                        .iter()
                        .copied()
                        .filter(|&b| graph.enclosing(b, "aws.availability-zone") == Some(z))
                        .collect()
                })
                .collect();
            if of_tier.len() == az && per_zone.iter().all(|v| v.len() == 1) {
                merged.push(per_zone.into_iter().map(|v| v[0]).collect());
            }
        }
    }
    let mut groups: Vec<SubnetGroup> = Vec::new();
    for &n in &boxes {
        if merged.iter().any(|m| m.contains(&n) && m[0] != n) {
            continue;
        }
        let c = graph.component(n);
        let group = match merged.iter().find(|m| m[0] == n) {
            Some(members) => {
                let owners: Vec<String> = members.iter().map(|&m| graph.component(m).id.clone()).collect();
                SubnetGroup {
                    node: n,
                    id: c.id.clone(),
                    owner: c.id.clone(),
                    synthetic: false,
                    members: members.clone(),
                    subnets: owners.iter().map(|id| pascal(id)).collect(),
                    owners,
                    tier: tier_of(n),
                }
            }
            None => SubnetGroup {
                node: n,
                id: c.id.clone(),
                owner: c.id.clone(),
                synthetic: false,
                members: vec![n],
                owners: vec![c.id.clone(); az],
                tier: tier_of(n),
                subnets: (1..=az).map(|i| format!("{}Subnet{i}", pascal(&c.id))).collect(),
            },
        };
        groups.push(group);
    }
    // a VPC drawn without subnets gets archc's layout: private subnets for what runs and
    // stores, public ones for load balancers and NAT gateways (the network stack says so)
    if groups.is_empty() {
        if let Some(vpc) = graph.of_kind("aws.vpc").next() {
            let owner = graph.component(vpc).id.clone();
            for (id, tier) in [("private", "app"), ("public", "public")] {
                let subnets = (1..=az).map(|i| format!("{}Subnet{i}", pascal(id))).collect();
                groups.push(SubnetGroup {
                    node: vpc,
                    id: id.to_string(),
                    owner: owner.clone(),
                    synthetic: true,
                    members: vec![vpc],
                    owners: vec![owner.clone(); az],
                    tier: tier.to_string(),
                    subnets,
                });
            }
        }
    }
    groups.sort_by_key(|g| tier_order(&g.tier));
    groups
}

fn name_tag(suffix: &str) -> Value {
    json!({"Key": "Name", "Value": sub(&format!("${{AWS::StackName}}-{suffix}"))})
}

pub(super) static LOWERER: super::Lowerer = super::Lowerer {
    name: "network",
    kinds: &["aws.vpc", "aws.subnet", "aws.internet-gateway", "aws.nat-gateway"],
    lower,
};

fn lower(l: &mut Lowering<'_>) {
    let Some(vpc_node) = l.graph.of_kind("aws.vpc").next() else { return };
    let vpc_id = l.graph.component(vpc_node).id.clone();
    let vpc = pascal(&vpc_id);
    let settings = l.settings;
    let azs = settings.az_defaults();

    // parameters: zones and address ranges
    for n in 1..=settings.az_count {
        let p = Parameter::new(
            "AWS::EC2::AvailabilityZone::Name",
            &format!("Availability Zone {n} (a deploy passes the account's zones)"),
        );
        l.param(
            NET,
            &format!("AvailabilityZone{n}"),
            match azs.get(n - 1) {
                Some(az) => p.default(az.as_str()),
                None => p,
            },
        );
    }
    if settings.az_count >= 2 {
        let assertions: Vec<Value> = (1..settings.az_count)
            .flat_map(|i| ((i + 1)..=settings.az_count).map(move |j| (i, j)))
            .map(|(i, j)| {
                json!({
                    "Assert": {"Fn::Not": [{"Fn::Equals": [r(&format!("AvailabilityZone{i}")), r(&format!("AvailabilityZone{j}"))]}]},
                    "AssertDescription": format!("AvailabilityZone{i} and AvailabilityZone{j} must be different zones.")
                })
            })
            .collect();
        l.stack(NET).rules.insert("DistinctAvailabilityZones".into(), json!({"Assertions": assertions}));
    }
    let Some((vpc_addr, vpc_len)) = parse_cidr(&settings.vpc_cidr) else { return };
    let vpc_cidr = format_cidr(vpc_addr, vpc_len);
    l.param(
        NET,
        "VpcCidr",
        Parameter::new("String", "RFC 1918 CIDR of the VPC (/16 to /24)")
            .known(vpc_cidr.as_str())
            .pattern(r"^(10|172|192)\.\d{1,3}\.\d{1,3}\.\d{1,3}/(1[6-9]|2[0-4])$"),
    );
    let groups = subnet_groups(l);
    // ranges written in the subnets' labels first (checked), then archc's own around them
    let mut taken: Vec<(u32, u8)> = Vec::new();
    let mut written: Vec<Option<Vec<(u32, u8)>>> = Vec::new();
    for g in &groups {
        let c = l.graph.component(g.node);
        // one box per AZ: each box's range is its AZ's
        let ranges: Vec<_> = if g.members.len() > 1 {
            g.members.iter().flat_map(|&m| label_cidrs(&l.graph.component(m).label)).collect()
        } else {
            label_cidrs(&c.label)
        };
        if ranges.is_empty() {
            written.push(None);
            continue;
        }
        match labelled_blocks(&ranges, settings.az_count, (vpc_addr, vpc_len), &taken) {
            Ok(blocks) => {
                taken.extend(blocks.iter().copied());
                written.push(Some(blocks));
            }
            Err(why) => {
                l.findings.push(
                    Diagnostic::warning(
                        codes::PLAN_LABEL_FACT,
                        format!("the range written on subnet `{}` is not used: {why}", g.id),
                    )
                    .with_primary(c.span, "archc carves this subnet's range itself")
                    .with_help(format!(
                        "write a range inside the VPC's {vpc_cidr} that no other subnet uses, large enough for {} AZs (a /28 each at least)",
                        settings.az_count
                    )),
                );
                written.push(None);
            }
        }
    }
    let mut next = vpc_addr;
    let mut cidrs: Vec<Vec<String>> = Vec::new();
    for (g, w) in groups.iter().zip(&written) {
        if let Some(blocks) = w {
            cidrs.push(blocks.iter().map(|&(a, n)| format_cidr(a, n)).collect());
            continue;
        }
        let len = tier_prefix(&g.tier, vpc_len);
        cidrs.push(
            g.subnets
                .iter()
                .map(|_| loop {
                    let a = allocate(&mut next, len);
                    if !taken.iter().any(|&t| overlaps(t, (a, len))) {
                        break format_cidr(a, len);
                    }
                })
                .collect(),
        );
    }
    for ((g, cs), w) in groups.iter().zip(&cidrs).zip(&written) {
        let from = if w.is_some() { " (from its label)" } else { "" };
        for (i, (logical, cidr)) in g.subnets.iter().zip(cs).enumerate() {
            l.param(
                NET,
                &format!("{logical}Cidr"),
                Parameter::new("String", &format!("CIDR of the {} subnet `{}` in AZ {}{from}", g.tier, g.id, i + 1))
                    .known(cidr.as_str()),
            );
        }
    }

    // VPC and internet gateway
    l.add(
        NET,
        &vpc,
        Resource::new(
            "AWS::EC2::VPC",
            json!({"CidrBlock": r("VpcCidr"), "EnableDnsSupport": true, "EnableDnsHostnames": true, "Tags": [name_tag("vpc")]}),
        )
        .node(&vpc_id),
    );
    let synthetic = groups.iter().any(|g| g.synthetic);
    // (logical id, diagram node): the drawn internet gateway, or archc's in its own layout
    let igw: Option<(String, String)> = l
        .graph
        .of_kind("aws.internet-gateway")
        .next()
        .map(|n| {
            let id = l.graph.component(n).id.clone();
            (pascal(&id), id)
        })
        .or_else(|| {
            // archc's layout, or drawn public subnets: a subnet is public by its route to one
            (synthetic || groups.iter().any(|g| g.tier == "public"))
                .then(|| ("InternetGateway".to_string(), vpc_id.clone()))
        });
    if !synthetic && igw.as_ref().is_some_and(|(logical, _)| logical == "InternetGateway") {
        assumed_at_vpc(
            l,
            vpc_node,
            &format!(
                "`{vpc_id}` draws public subnets but no internet gateway: archc builds the one they need (their route 0.0.0.0/0 to it is what makes them public)"
            ),
            "no internet gateway drawn",
            "draw `igw[Internet Gateway]` in the VPC to give it a name of your own",
        );
    }
    let igw_attachment = igw.as_ref().map(|(logical, _)| format!("{logical}Attachment"));
    if let (Some((logical, owner)), Some(attachment)) = (&igw, &igw_attachment) {
        l.add(NET, logical, Resource::new("AWS::EC2::InternetGateway", json!({"Tags": [name_tag("igw")]})).node(owner));
        l.add(
            NET,
            attachment,
            Resource::new("AWS::EC2::VPCGatewayAttachment", json!({"VpcId": r(&vpc), "InternetGatewayId": r(logical)}))
                .node(owner),
        );
    }

    // subnets
    for g in &groups {
        for (i, logical) in g.subnets.iter().enumerate() {
            let mut t = vec![name_tag(&format!("{}-{}", g.id.to_lowercase(), i + 1))];
            match g.tier.as_str() {
                "public" => t.push(json!({"Key": "kubernetes.io/role/elb", "Value": "1"})),
                "app" => t.push(json!({"Key": "kubernetes.io/role/internal-elb", "Value": "1"})),
                _ => {}
            }
            t.push(json!({"Key": "archc/tier", "Value": g.tier}));
            l.add(
                NET,
                logical,
                Resource::new(
                    "AWS::EC2::Subnet",
                    json!({
                        "VpcId": r(&vpc),
                        "AvailabilityZone": r(&format!("AvailabilityZone{}", i + 1)),
                        "CidrBlock": r(&format!("{logical}Cidr")),
                        "MapPublicIpOnLaunch": false,
                        "Tags": t,
                    }),
                )
                .node(&g.owners[i]),
            );
        }
    }

    // NAT gateways: in the public subnets of the box they are drawn in
    let mut nat_by_az: Vec<Option<String>> = vec![None; settings.az_count];
    for nat in l.graph.of_kind("aws.nat-gateway").collect::<Vec<_>>() {
        let nat_id = l.graph.component(nat).id.clone();
        let Some(group) = l.graph.enclosing(nat, "aws.subnet").and_then(|s| groups.iter().find(|g| g.contains(s)))
        else {
            continue;
        };
        if group.tier != "public" {
            continue;
        }
        // one per AZ unless configured (`nat_gateways: single`) or labelled (`Single NAT
        // Gateway`); configuration decides over a label that says otherwise, with a finding
        let per_az = match (nat_label(&l.graph.component(nat).label), settings.nat_configured) {
            (Some(labelled), true) if labelled != settings.nat_per_az => {
                let (said, configured) =
                    if labelled { ("a NAT gateway per AZ", "single") } else { ("a single NAT gateway", "per-az") };
                l.findings.push(
                    Diagnostic::warning(
                        codes::PLAN_LABEL_FACT,
                        format!("`{nat_id}` says {said}, but the configuration says `nat_gateways: {configured}`: the configuration is built"),
                    )
                    .with_primary(l.graph.component(nat).span, "the label says otherwise")
                    .with_help("change the label or `nat_gateways` so that they agree"),
                );
                settings.nat_per_az
            }
            (Some(labelled), false) => labelled,
            _ => settings.nat_per_az,
        };
        let subnets = group.subnets.clone();
        // drawn inside an Availability Zone box (one box per AZ): the NAT gateway of that AZ only
        if let Some(k) = nat_az(l, nat) {
            // (one NAT gateway per box: it keeps the box's name)
            let name = NatName { base: &nat_id, owner: &nat_id, numbered: false };
            build_nats(l, name, &subnets, &[k], igw_attachment.as_deref(), &mut nat_by_az);
            continue;
        }
        let count = if per_az { settings.az_count } else { 1 };
        let azs: Vec<usize> = (0..count).collect();
        let name = NatName { base: &nat_id, owner: &nat_id, numbered: true };
        build_nats(l, name, &subnets, &azs, igw_attachment.as_deref(), &mut nat_by_az);
        let first = nat_by_az[0].clone();
        for slot in nat_by_az.iter_mut().skip(count) {
            *slot = first.clone();
        }
    }
    // an AZ without a NAT gateway of its own uses the first one
    if let Some(first) = nat_by_az.iter().flatten().next().cloned() {
        for slot in nat_by_az.iter_mut().filter(|s| s.is_none()) {
            *slot = Some(first.clone());
        }
    }

    // archc's layout: a NAT gateway per AZ (or one, as configured) in its public subnets
    if synthetic && nat_by_az.iter().all(Option::is_none) {
        if let Some(public) = groups.iter().find(|g| g.synthetic && g.tier == "public") {
            let count = if settings.nat_per_az { settings.az_count } else { 1 };
            let subnets = public.subnets.clone();
            let azs: Vec<usize> = (0..count).collect();
            let name = NatName { base: "nat", owner: &vpc_id, numbered: true };
            build_nats(l, name, &subnets, &azs, igw_attachment.as_deref(), &mut nat_by_az);
            let first = nat_by_az[0].clone();
            for slot in nat_by_az.iter_mut().skip(count) {
                *slot = first.clone();
            }
        }
        assumed_at_vpc(
            l,
            vpc_node,
            &format!(
                "`{vpc_id}` draws no subnets: archc builds its own layout in {} AZs: private subnets (what runs and what stores), public subnets (load balancers, NAT), an internet gateway and {}",
                settings.az_count,
                if settings.nat_per_az { "a NAT gateway per AZ" } else { "one NAT gateway" }
            ),
            "no subnet drawn inside",
            "draw subnet boxes (`subgraph private[Private subnets]`, `subgraph public[Public subnets]`) to decide the layout yourself",
        );
    }

    // routing
    let mut routed_nats: Vec<NodeIndex> = Vec::new();
    for g in &groups {
        match g.tier.as_str() {
            "public" => {
                let rt = route_table(l, &vpc, &g.id, &g.owner, None, None);
                if let (Some((igw, _)), Some(attachment)) = (&igw, &igw_attachment) {
                    l.add(
                        NET,
                        &format!("{}DefaultRoute", pascal(&g.id)),
                        Resource::new(
                            "AWS::EC2::Route",
                            json!({"RouteTableId": r(&rt), "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": r(igw)}),
                        )
                        .node(&g.owner)
                        .depends_on(&[attachment.as_str()])
                        .comment("public: 0.0.0.0/0 -> internet gateway (what makes the subnet public)"),
                    );
                }
                for s in &g.subnets {
                    associate(l, s, &rt, &g.owner);
                }
            }
            "app" => {
                // the drawn arrows to a NAT gateway; without any, a NAT gateway in the VPC's
                // public subnets is still the app subnets' way out (what the drawing means)
                let egress: Vec<(EdgeIndex, NodeIndex)> = g.members.iter().flat_map(|&m| egress_edges(l, m)).collect();
                let wants_nat = !egress.is_empty() || nat_by_az.iter().any(Option::is_some);
                if egress.is_empty() {
                    routed_nats.extend(l.graph.of_kind("aws.nat-gateway"));
                }
                if wants_nat && nat_by_az.iter().any(Option::is_some) {
                    for (e, nat) in &egress {
                        l.built(*e, "the app subnets' default route through the NAT gateway");
                        routed_nats.push(*nat);
                    }
                }
                for (i, s) in g.subnets.iter().enumerate() {
                    let rt = route_table(l, &vpc, &g.id, &g.owner, Some(i + 1), None);
                    if let (true, Some(nat)) = (wants_nat, nat_by_az[i].clone()) {
                        l.add(
                            NET,
                            &format!("{}DefaultRoute{}", pascal(&g.id), i + 1),
                            Resource::new("AWS::EC2::Route", json!({"RouteTableId": r(&rt), "DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": r(&nat)}))
                                .node(&g.owner)
                                .comment("app: 0.0.0.0/0 -> the NAT gateway of the same AZ (the diagram's arrow to the NAT gateway)"),
                        );
                    }
                    associate(l, s, &rt, &g.owner);
                }
            }
            _ => {
                let rt = route_table(
                    l,
                    &vpc,
                    &g.id,
                    &g.owner,
                    None,
                    Some("data: the local route only (no internet gateway, no NAT)"),
                );
                for s in &g.subnets {
                    associate(l, s, &rt, &g.owner);
                }
            }
        }
    }

    // what the NAT and internet gateways do for the arrows
    let built_nats: Vec<NodeIndex> = l
        .graph
        .of_kind("aws.nat-gateway")
        .filter(|&n| {
            let id = &l.graph.component(n).id;
            l.stack(NET).resources.values().any(|r| r.ty == "AWS::EC2::NatGateway" && r.node.as_ref() == Some(id))
        })
        .collect();
    let has_igw = igw.is_some() && groups.iter().any(|g| g.tier == "public");
    for (e, a, b, c) in l.graph.connections().collect::<Vec<_>>() {
        let how = match c.meaning {
            "egress-route" if built_nats.contains(&a) && l.graph.component(b).is("aws.internet-gateway") && has_igw => {
                "the NAT gateway's public subnet routes 0.0.0.0/0 to the internet gateway"
            }
            "reaches-api" if built_nats.contains(&a) && routed_nats.contains(&a) => {
                "the app subnets reach the AWS API through the NAT gateway's route to the internet"
            }
            "internet-route" if has_igw => "the public subnets' default route to the internet gateway",
            _ => continue,
        };
        l.built(e, how);
    }
    for nat in built_nats {
        if !routed_nats.contains(&nat) {
            let c = l.graph.component(nat);
            l.findings.push(
                Diagnostic::new(
                    codes::PLAN_UNUSED,
                    Severity::Warning,
                    format!("NAT gateway `{}` is created (and billed by the hour) but no private subnet routes through it", c.id),
                )
                .with_primary(c.span, "nothing routes through this NAT gateway")
                .with_help(format!(
                    "draw the arrow from what needs the internet (`nodes --> {0}`, or the app subnet box `--> {0}`), or remove the NAT gateway",
                    c.id
                )),
            );
        }
    }

    // outputs
    l.output(NET, "VpcId", r(&vpc), "VPC id");
    if !settings.region_known {
        l.output(NET, "Region", r("AWS::Region"), "the region the stacks are deployed to");
    }
    l.output(NET, "VpcCidr", get_att(&vpc, "CidrBlock"), "VPC CIDR block");
    for i in 1..=settings.az_count {
        l.output(
            NET,
            &format!("AvailabilityZone{i}"),
            r(&format!("AvailabilityZone{i}")),
            &format!("Availability Zone {i}"),
        );
    }
    for g in &groups {
        for (i, s) in g.subnets.iter().enumerate() {
            l.output(NET, &format!("{s}Id"), r(s), &format!("{} subnet `{}`, AZ {}", g.tier, g.id, i + 1));
            l.output(
                NET,
                &format!("{s}Cidr"),
                r(&format!("{s}Cidr")),
                &format!("CIDR of the {} subnet `{}`, AZ {}", g.tier, g.id, i + 1),
            );
        }
    }
    for tier in ["public", "app", "data"] {
        let ids: Vec<Value> =
            groups.iter().filter(|g| g.tier == tier).flat_map(|g| g.subnets.iter().map(|s| r(s))).collect();
        if !ids.is_empty() {
            let name = format!("{}SubnetIds", pascal(tier));
            l.output(NET, &name, join(",", ids), &format!("comma-joined {tier} subnet ids"));
        }
    }
    let _ = tags;
}

/// The solid arrows from a box in subnet group `group` (or the group itself) to a NAT
/// gateway, with the NAT: what the app route tables' default route comes from.
fn egress_edges(l: &Lowering<'_>, group: NodeIndex) -> Vec<(EdgeIndex, NodeIndex)> {
    let g = l.graph;
    let in_group = |n: NodeIndex| n == group || g.ancestors(n).any(|a| a == group);
    g.connections()
        .filter(|(_, a, b, c)| c.style == Style::Solid && g.component(*b).is("aws.nat-gateway") && in_group(*a))
        .map(|(e, _, b, _)| (e, b))
        .collect()
}

/// The AZ (index) of NAT gateway `nat` when it is drawn inside an Availability Zone box and the
/// diagram draws one such box per AZ archc builds (not configured otherwise): the drawing then
/// says one NAT gateway per box, in its AZ.
fn nat_az(l: &Lowering<'_>, nat: NodeIndex) -> Option<usize> {
    if l.settings.nat_configured {
        return None;
    }
    let mut zones: Vec<NodeIndex> = l.graph.of_kind("aws.availability-zone").collect();
    if zones.len() != l.settings.az_count {
        return None;
    }
    zones.sort_by_key(|&z| (l.graph.component(z).span.start, z.index()));
    let zone = l.graph.enclosing(nat, "aws.availability-zone")?;
    zones.iter().position(|&z| z == zone)
}

/// How NAT gateways are named: `base` (a drawn box's id, or `nat`), numbered by AZ or not, and
/// the diagram node they come from.
#[derive(Clone, Copy)]
struct NatName<'a> {
    base: &'a str,
    owner: &'a str,
    numbered: bool,
}

/// NAT gateways with their elastic IPs in `subnets` (one per AZ) of the AZs `azs` (indices),
/// named `base`<AZ> (`numbered`) or `base`, recorded in `nat_by_az`; `owner` is the diagram
/// node they come from.
fn build_nats(
    l: &mut Lowering<'_>,
    name: NatName<'_>,
    subnets: &[String],
    azs: &[usize],
    igw_attachment: Option<&str>,
    nat_by_az: &mut [Option<String>],
) {
    let NatName { base: nat_id, owner, numbered } = name;
    for &i in azs {
        let logical = if numbered { format!("{}{}", pascal(nat_id), i + 1) } else { pascal(nat_id) };
        let eip = format!("{logical}Eip");
        let mut eip_resource = Resource::new(
            "AWS::EC2::EIP",
            json!({"Domain": "vpc", "Tags": [name_tag(&format!("{}-{}", nat_id.to_lowercase(), i + 1))]}),
        )
        .node(owner);
        if let Some(a) = igw_attachment {
            eip_resource = eip_resource.depends_on(&[a]);
        }
        l.add(NET, &eip, eip_resource);
        l.add(
            NET,
            &logical,
            Resource::new(
                "AWS::EC2::NatGateway",
                json!({"AllocationId": get_att(&eip, "AllocationId"), "SubnetId": r(&subnets[i]), "Tags": [name_tag(&format!("{}-{}", nat_id.to_lowercase(), i + 1))]}),
            )
            .node(owner),
        );
        l.output(
            NET,
            &format!("{logical}PublicIp"),
            r(&eip),
            &format!("egress address of NAT gateway `{nat_id}` in AZ {}", i + 1),
        );
        if nat_by_az[i].is_none() {
            nat_by_az[i] = Some(logical.clone());
        }
    }
}

/// The route table of tier box `node` (of its AZ `az` when each AZ has its own); its logical id.
fn route_table(
    l: &mut Lowering<'_>,
    vpc: &str,
    name: &str,
    node: &str,
    az: Option<usize>,
    comment: Option<&str>,
) -> String {
    let suffix = az.map(|i| i.to_string()).unwrap_or_default();
    let tag = az.map_or_else(|| name.to_lowercase(), |i| format!("{}-{i}", name.to_lowercase()));
    let id = format!("{}RouteTable{suffix}", pascal(name));
    let mut table =
        Resource::new("AWS::EC2::RouteTable", json!({"VpcId": r(vpc), "Tags": [name_tag(&tag)]})).node(node);
    if let Some(c) = comment {
        table = table.comment(c);
    }
    l.add(NET, &id, table);
    id
}

/// Associate subnet `subnet` with route table `rt` (resources of tier box `node`).
fn associate(l: &mut Lowering<'_>, subnet: &str, rt: &str, node: &str) {
    l.add(
        NET,
        &format!("{subnet}RouteTableAssociation"),
        Resource::new("AWS::EC2::SubnetRouteTableAssociation", json!({"SubnetId": r(subnet), "RouteTableId": r(rt)}))
            .node(node),
    );
}

/// A `PLN007` info at the VPC box: what archc builds that the drawing leaves out.
fn assumed_at_vpc(l: &mut Lowering<'_>, vpc: NodeIndex, message: &str, label: &str, help: &str) {
    let span = l.graph.component(vpc).span;
    l.findings
        .push(Diagnostic::new(codes::PLAN_ASSUMED, Severity::Info, message).with_primary(span, label).with_help(help));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nat_labels_say_how_many() {
        assert_eq!(nat_label("Single NAT Gateway"), Some(false));
        assert_eq!(nat_label("NAT per AZ"), Some(true));
        assert_eq!(nat_label("NAT Gateway (one in each AZ)"), Some(true));
        assert_eq!(nat_label("NAT Gateway per availability zone"), Some(true));
        assert_eq!(nat_label("NAT Gateway"), None);
    }

    #[test]
    fn labelled_ranges_are_checked() {
        let vpc = parse_cidr("10.0.0.0/16").expect("cidr");
        let cidrs = |r: Result<Vec<(u32, u8)>, String>| -> Vec<String> {
            r.expect("accepted").into_iter().map(|(a, l)| format_cidr(a, l)).collect()
        };
        assert_eq!(label_cidrs("Public Subnet 10.0.1.0/24<br/>AZ a"), vec![(0x0a00_0100, 24)]);
        // one range shared by the AZs, or one per AZ
        assert_eq!(cidrs(labelled_blocks(&label_cidrs("10.0.1.0/24"), 2, vpc, &[])), ["10.0.1.0/25", "10.0.1.128/25"]);
        assert_eq!(
            cidrs(labelled_blocks(&label_cidrs("10.0.1.0/24"), 3, vpc, &[])),
            ["10.0.1.0/26", "10.0.1.64/26", "10.0.1.128/26"]
        );
        assert_eq!(
            cidrs(labelled_blocks(&label_cidrs("10.0.1.0/24, 10.0.2.0/24"), 2, vpc, &[])),
            ["10.0.1.0/24", "10.0.2.0/24"]
        );
        let why = |text: &str, azs: usize, taken: &[(u32, u8)]| {
            labelled_blocks(&label_cidrs(text), azs, vpc, taken).expect_err("refused")
        };
        assert!(why("10.1.0.0/24", 2, &[]).contains("outside"), "{}", why("10.1.0.0/24", 2, &[]));
        assert!(why("10.0.1.0/28", 2, &[]).contains("too small"));
        assert!(why("10.0.1.0/24 10.0.2.0/24 10.0.3.0/24", 2, &[]).contains("3 ranges for 2 AZs"));
        assert!(why("10.0.1.5/24", 1, &[]).contains("not a network address"));
        let taken = [parse_cidr("10.0.0.0/23").expect("cidr")];
        assert!(why("10.0.1.0/24", 2, &taken).contains("overlaps 10.0.0.0/23"));
        assert!(why("10.0.1.0/24, 10.0.1.0/25", 2, &[]).contains("overlaps"));
    }

    #[test]
    fn cidrs_are_carved_in_tier_order() {
        let (addr, len) = parse_cidr("10.0.0.0/16").expect("cidr");
        let mut next = addr;
        let app = [allocate(&mut next, tier_prefix("app", len)), allocate(&mut next, tier_prefix("app", len))];
        let public = allocate(&mut next, tier_prefix("public", len));
        let data = allocate(&mut next, tier_prefix("data", len));
        assert_eq!(format_cidr(app[0], 19), "10.0.0.0/19");
        assert_eq!(format_cidr(app[1], 19), "10.0.32.0/19");
        assert_eq!(format_cidr(public, 22), "10.0.64.0/22");
        assert_eq!(format_cidr(data, 24), "10.0.68.0/24");
    }
}

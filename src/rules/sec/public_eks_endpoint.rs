use crate::rules::{declare_rule, Handle, RuleContext, Violation};

declare_rule! {
    /// ## What it does
    /// Reports an EKS control plane drawn as a public API endpoint.
    ///
    /// ## Why is this bad?
    /// A public endpoint open to `0.0.0.0/0` lets anyone on the internet probe the Kubernetes
    /// API (checkov CKV_AWS_38/39). The drawing asks for a public endpoint (CI outside the
    /// VPC deploys through it), so archc keeps it public but restricts it to
    /// `eks.public_access_cidrs` and turns private access on for the nodes.
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart TB
    ///   gha[GitHub Actions] --> ekscp[EKS Control Plane Public API]
    /// ```
    ///
    /// Use instead: set `eks.public_access_cidrs` to the operators' and CI runners' ranges, or
    /// draw a private endpoint and deploy from inside the VPC.
    ///
    /// ## References
    /// - <https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html>
    pub(crate) static RULE = {
        code: "SEC001",
        name: "public-eks-endpoint",
        severity: Warning,
        check: check,
    }
}

/// SEC001
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    for cp in ctx.graph.of_kind("aws.eks-control-plane") {
        if ctx.c(cp).attr("endpoint") != Some("public") {
            continue;
        }
        let cidrs = &ctx.config.eks.public_access_cidrs;
        let (now, help) = if cidrs.is_empty() {
            (
                "not set yet, so for now it is private only".to_string(),
                "nothing to do for operators and CI: they reach the private endpoint through the SSM access instance archc builds (cloudformation/README.md); set `eks.public_access_cidrs` in the ```yaml archc block only to open the public endpoint to known CIDRs".to_string(),
            )
        } else {
            (
                format!("allowed: {}", cidrs.join(", ")),
                "keep `eks.public_access_cidrs` as narrow as the operators and CI need".to_string(),
            )
        };
        out.push(Violation::new(
            Handle::Node(cp),
            format!("the EKS API endpoint `{}` is drawn public: archc opens it only to `eks.public_access_cidrs`, with private access on ({now})", ctx.c(cp).id),
            "public Kubernetes API endpoint",
            help,
        ));
    }
}

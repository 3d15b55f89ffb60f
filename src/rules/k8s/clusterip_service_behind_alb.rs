use crate::rules::{declare_rule, Handle, RuleContext, Violation};

declare_rule! {
    /// ## What it does
    /// Reports a ClusterIP Service drawn behind an Application Load Balancer.
    ///
    /// ## Why is this bad?
    /// The AWS Load Balancer Controller's default `target-type: instance` sends traffic to a
    /// NodePort; a ClusterIP Service has none, so the ALB would have no healthy target. With
    /// `target-type: ip` the ALB targets pod IPs directly (VPC CNI) and any Service type works.
    /// archc emits `alb.ingress.kubernetes.io/target-type: ip` for this drawing.
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart TB
    ///   alb[ALB Ingress] --> svc[Service ClusterIP] --> app[Pods]
    /// ```
    ///
    /// Use instead: keep the drawing; archc sets `target-type: ip`. Draw `Service NodePort` to
    /// use instance targets.
    ///
    /// ## References
    /// - <https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#target-type>
    pub(crate) static RULE = {
        code: "K8S001",
        name: "clusterip-service-behind-alb",
        severity: Info,
        check: check,
    }
}

/// K8S001
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    for svc in ctx.graph.of_kind("k8s.service") {
        if ctx.c(svc).attr("type").unwrap_or("ClusterIP") != "ClusterIP" {
            continue;
        }
        let Some((_, alb)) = ctx.graph.incoming(svc).find(|(_, s)| ctx.c(*s).is("aws.alb")) else { continue };
        out.push(Violation::new(
            Handle::Node(svc),
            format!("ClusterIP Service `{}` behind ALB `{}`: archc emits `target-type: ip`", ctx.c(svc).id, ctx.c(alb).id),
            "ClusterIP: no NodePort for instance targets",
            "nothing to do: the Ingress gets `alb.ingress.kubernetes.io/target-type: ip`; draw `Service NodePort` for instance targets",
        ));
    }
}

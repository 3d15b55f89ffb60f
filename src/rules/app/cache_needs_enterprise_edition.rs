use crate::model::Style;
use crate::rules::{declare_rule, Handle, RuleContext, Violation};

declare_rule! {
    /// ## What it does
    /// Reports an arrow from an application to a cache the application's edition cannot use
    /// (Mattermost Team Edition and Redis).
    ///
    /// ## Why is this bad?
    /// Mattermost uses Redis only as an external cache (`CacheSettings.CacheType=redis`), an
    /// Enterprise feature. Wiring the cache into a Team Edition server does nothing, and
    /// Mattermost has no TLS setting for Redis, so an ElastiCache with in-transit encryption
    /// `required` may be unreachable even for Enterprise. archc creates the cache as drawn but
    /// does not set Redis variables unless the edition allows it.
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart TB
    ///   mm[Mattermost Pods] --> cache[(ElastiCache Redis)]
    /// ```
    ///
    /// Use instead: `app.edition: enterprise` in the configuration (archc then sets
    /// `MM_CACHESETTINGS_CACHETYPE=redis` and `MM_CACHESETTINGS_REDISDB=0`), or remove the cache.
    ///
    /// ## References
    /// - <https://docs.mattermost.com/scale/redis.html>
    pub(crate) static RULE = {
        code: "APP001",
        name: "cache-needs-enterprise-edition",
        severity: Warning,
        check: check,
    }
}

/// APP001
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    for (e, a, b, conn) in ctx.graph.connections() {
        if conn.style != Style::Solid || ctx.c(b).category() != Some("cache") {
            continue;
        }
        let Some((profile, edition)) = ctx.app(a) else { continue };
        if profile.editions.get(edition).is_none_or(|ed| ed.cache) {
            continue;
        }
        out.push(
            Violation::new(
                Handle::Edge(e),
                format!("{} {edition} edition cannot use the cache `{}`; archc does not wire it into {}", profile.name, ctx.c(b).id, profile.name),
                format!("the cache is an Enterprise feature of {}", profile.name),
                format!("set `app.edition: enterprise` (then archc sets the Redis cache variables, REDISDB 0), or remove `{}`", ctx.c(b).id),
            )
            .with(Handle::Node(b), "created, but unused by the application"),
        );
    }
}

use crate::model::Style;
use crate::rules::{declare_rule, Handle, RuleContext, Violation};

declare_rule! {
    /// ## What it does
    /// Reports an application with a single file store (Mattermost's `FileSettings`) drawn
    /// with arrows to both S3 and EFS.
    ///
    /// ## Why is this bad?
    /// `FileSettings.DriverName` is one value: `amazons3` or a local directory. Two file stores
    /// cannot both hold the uploads. archc uses S3 as the file store and mounts EFS only at the
    /// directories that must be shared and persistent (Mattermost's plugin directories).
    ///
    /// ## Example
    /// ```mermaid
    /// flowchart TB
    ///   mm[Mattermost Pods] --> s3[(Amazon S3)]
    ///   mm --> efs[(Amazon EFS)]
    /// ```
    ///
    /// Use instead: keep both if EFS is for plugins (archc's reading), or remove one of them.
    pub(crate) static RULE = {
        code: "APP003",
        name: "second-file-store",
        severity: Info,
        check: check,
    }
}

/// APP003
fn check(ctx: &RuleContext<'_>, out: &mut Vec<Violation>) {
    for (n, _) in ctx.graph.components() {
        let Some((profile, _)) = ctx.app(n) else { continue };
        if !profile.file_store.single {
            continue;
        }
        let targets: Vec<_> =
            ctx.graph.outgoing(n).filter(|(e, _)| ctx.graph.connection(*e).style == Style::Solid).collect();
        let s3 = targets.iter().find(|(_, t)| ctx.c(*t).is("aws.s3"));
        let efs = targets.iter().find(|(_, t)| ctx.c(*t).is("aws.efs"));
        let (Some((s3e, s3n)), Some((efse, _))) = (s3, efs) else { continue };
        let paths = profile.file_store.shared_paths.join(" and ");
        out.push(
            Violation::new(
                Handle::Edge(*efse),
                format!("{} keeps files in one store: archc uses S3 `{}` and mounts EFS only at {paths}", profile.name, ctx.c(*s3n).id),
                "EFS: shared plugin directories, not a second file store",
                format!("nothing to do if EFS is for plugins; otherwise remove one of the file stores ({} supports `{}` or a local directory)", profile.name, profile.file_store.s3_driver),
            )
            .with(Handle::Edge(*s3e), "the file store (FileSettings.DriverName = amazons3)"),
        );
    }
}

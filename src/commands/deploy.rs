//! `archc deploy` and `archc destroy`: compile in memory exactly as `archc compile` does (same
//! findings; refused on errors) and hand the files to the deploy engine (crate
//! `archc-deploy`, behind the `deploy` feature).

use crate::cli::{DeployArgs, DestroyArgs};

#[cfg(feature = "deploy")]
mod enabled {
    use std::time::Duration;

    use super::super::compile::analyse_and_plan;
    use super::super::EXIT_ERRORS;
    use crate::cli::{DeployArgs, DeployMethod, DeployOutput, DestroyArgs, InputArgs, RuleArgs, TargetArgs};
    use crate::emit;

    fn files(input: &InputArgs, rules: &RuleArgs) -> Result<archc_deploy::Files, i32> {
        let (analysis, mut plan) = analyse_and_plan(input, rules)?;
        // the stacks it deploys say which diagram they come from (`archc compile` leaves the
        // path out, so that its output does not depend on where or under which name it runs)
        plan.settings.diagram = crate::plan::tags::diagram_tag(&input.file);
        let Some(graph) = &analysis.graph else { return Err(EXIT_ERRORS) };
        Ok(emit::files(&plan, &plan.components(graph)))
    }

    fn options(t: &TargetArgs) -> archc_deploy::Options {
        archc_deploy::Options {
            region: t.region.clone(),
            profile: t.profile.clone(),
            endpoint_url: t.endpoint_url.clone(),
            stack_prefix: t.stack_prefix.clone(),
            yes: t.yes,
            output: match t.output {
                DeployOutput::Human => archc_deploy::OutputMode::Human,
                DeployOutput::Json => archc_deploy::OutputMode::Json,
            },
            kube_api: t.kube_api.clone(),
            stacks_only: t.stacks_only,
            poll: t.poll.filter(|p| p.is_finite() && *p > 0.0).map(Duration::from_secs_f64),
            stack_timeout: t.stack_timeout.map(Duration::from_secs),
            wait_timeout: t.wait_timeout.map(Duration::from_secs),
            ..archc_deploy::Options::default()
        }
    }

    pub(crate) fn deploy(args: &DeployArgs) -> i32 {
        let files = match files(&args.input, &args.rules) {
            Ok(f) => f,
            Err(code) => return code,
        };
        let options = archc_deploy::Options {
            dry_run: args.dry_run,
            method: match args.method {
                DeployMethod::ChangeSet => archc_deploy::Method::ChangeSet,
                DeployMethod::Direct => archc_deploy::Method::Direct,
            },
            parameters: args.parameters.clone(),
            set: args.set.clone(),
            image_tag: args.image_tag.clone(),
            lbc_chart_version: args.lbc_chart_version.clone(),
            ..options(&args.target)
        };
        archc_deploy::run_deploy(&files, &options)
    }

    pub(crate) fn destroy(args: &DestroyArgs) -> i32 {
        let files = match files(&args.input, &args.rules) {
            Ok(f) => f,
            Err(code) => return code,
        };
        archc_deploy::run_destroy(&files, &options(&args.target))
    }
}

/// `archc deploy FILE`
pub(crate) fn deploy(args: &DeployArgs) -> i32 {
    #[cfg(feature = "deploy")]
    {
        enabled::deploy(args)
    }
    #[cfg(not(feature = "deploy"))]
    {
        let _ = args;
        not_built()
    }
}

/// `archc destroy FILE`
pub(crate) fn destroy(args: &DestroyArgs) -> i32 {
    #[cfg(feature = "deploy")]
    {
        enabled::destroy(args)
    }
    #[cfg(not(feature = "deploy"))]
    {
        let _ = args;
        not_built()
    }
}

#[cfg(not(feature = "deploy"))]
fn not_built() -> i32 {
    eprintln!(
        "error: this archc was built without the `deploy` feature (cargo build --no-default-features); build it with the default features to deploy"
    );
    super::EXIT_FAILURE
}

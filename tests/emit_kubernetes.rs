//! The Kubernetes and GitHub Actions backends against the reference spec's checklist
//! (asserted on the emitted YAML, parsed), snapshots of the seed's manifests and workflow.

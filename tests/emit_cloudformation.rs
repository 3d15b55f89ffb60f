//! The CloudFormation backend against the reference spec's checklist (asserted on the
//! emitted YAML, parsed), snapshots of the seed's stacks, and determinism.

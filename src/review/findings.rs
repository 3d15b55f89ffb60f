//! Findings introduced and fixed: the diagnostics of both sides, matched by code, severity
//! and message (positions move with every edit; messages name diagram ids, which do not).

use std::collections::BTreeMap;

use serde::Serialize;

use super::side::Side;
use crate::diagnostic::Severity;

/// A diagnostic as the review shows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

/// Errors, warnings and infos of a side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FindingsDiff {
    /// On the new side only (located in the new file).
    pub introduced: Vec<Finding>,
    /// On the old side only (located in the old file).
    pub fixed: Vec<Finding>,
    pub old: Tally,
    pub new: Tally,
}

fn findings(side: &Side) -> Vec<Finding> {
    side.diagnostics()
        .iter()
        .map(|d| {
            let at = side.location(d);
            Finding {
                severity: d.severity,
                code: d.code.to_string(),
                message: d.message.clone(),
                line: at.map(|a| a.0),
                column: at.map(|a| a.1),
            }
        })
        .collect()
}

fn tally(side: &Side) -> Tally {
    Tally {
        errors: side.count(Severity::Error),
        warnings: side.count(Severity::Warning),
        infos: side.count(Severity::Info),
    }
}

/// Compare the diagnostics of two sides.
pub fn diff(old: &Side, new: &Side) -> FindingsDiff {
    type Key = (Severity, String, String);
    let key = |f: &Finding| -> Key { (f.severity, f.code.clone(), f.message.clone()) };
    let mut remaining: BTreeMap<Key, usize> = BTreeMap::new();
    let old_findings = findings(old);
    for f in &old_findings {
        *remaining.entry(key(f)).or_default() += 1;
    }
    let mut introduced = Vec::new();
    let mut matched: BTreeMap<Key, usize> = BTreeMap::new();
    for f in findings(new) {
        match remaining.get_mut(&key(&f)) {
            Some(n) if *n > 0 => {
                *n -= 1;
                *matched.entry(key(&f)).or_default() += 1;
            }
            _ => introduced.push(f),
        }
    }
    let mut fixed = Vec::new();
    for f in old_findings {
        match matched.get_mut(&key(&f)) {
            Some(n) if *n > 0 => *n -= 1,
            _ => fixed.push(f),
        }
    }
    introduced.sort();
    fixed.sort();
    FindingsDiff { introduced, fixed, old: tally(old), new: tally(new) }
}

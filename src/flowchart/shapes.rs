//! The shape names `@{ shape: ... }` accepts in Mermaid 11.14.0 (its `isValidShape`).

pub const SHAPE_NAMES: &[&str] = &[
    "rect", "proc", "process", "rectangle", "rounded", "event", "stadium", "terminal", "pill", "fr-rect",
    "subprocess", "subproc", "framed-rectangle", "subroutine", "cyl", "db", "database", "cylinder", "circle",
    "circ", "bang", "cloud", "diam", "decision", "diamond", "question", "hex", "hexagon", "prepare", "lean-r",
    "lean-right", "in-out", "lean-l", "lean-left", "out-in", "trap-b", "priority", "trapezoid-bottom",
    "trapezoid", "trap-t", "manual", "trapezoid-top", "inv-trapezoid", "dbl-circ", "double-circle",
    "doublecircle", "text", "notch-rect", "card", "notched-rectangle", "lin-rect", "lined-rectangle",
    "lined-process", "lin-proc", "shaded-process", "sm-circ", "start", "small-circle", "fr-circ", "stop",
    "framed-circle", "fork", "join", "hourglass", "collate", "brace", "comment", "brace-l", "brace-r", "braces",
    "bolt", "com-link", "lightning-bolt", "doc", "document", "delay", "half-rounded-rectangle", "h-cyl", "das",
    "horizontal-cylinder", "lin-cyl", "disk", "lined-cylinder", "curv-trap", "curved-trapezoid", "display",
    "div-rect", "div-proc", "divided-rectangle", "divided-process", "tri", "extract", "triangle", "win-pane",
    "internal-storage", "window-pane", "f-circ", "junction", "filled-circle", "notch-pent", "loop-limit",
    "notched-pentagon", "flip-tri", "manual-file", "flipped-triangle", "sl-rect", "manual-input",
    "sloped-rectangle", "docs", "documents", "st-doc", "stacked-document", "st-rect", "procs", "processes",
    "stacked-rectangle", "bow-rect", "stored-data", "bow-tie-rectangle", "cross-circ", "summary",
    "crossed-circle", "tag-doc", "tagged-document", "tag-rect", "tagged-rectangle", "tag-proc",
    "tagged-process", "flag", "paper-tape", "odd", "lin-doc", "lined-document", "state", "choice", "note",
    "icon", "anchor",
];

/// Shapes added in Mermaid 12, which archc accepts too (Mermaid 11.14 refuses them).
pub const SHAPE_NAMES_12: &[&str] = &["datastore", "data-store"];

pub fn is_valid_shape(name: &str) -> bool {
    SHAPE_NAMES.contains(&name) || SHAPE_NAMES_12.contains(&name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn there_are_138_shapes() {
        assert_eq!(super::SHAPE_NAMES.len(), 138);
    }
}

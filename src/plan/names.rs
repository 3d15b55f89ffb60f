//! Stable names: CloudFormation logical ids from diagram ids (renaming a label never
//! renames a resource), and names for things AWS and Kubernetes see.

/// `privApp` → `PrivApp`, `efs-mt` → `EfsMt`, `1st` → `N1st`.
pub fn pascal(id: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in id.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.extend(c.to_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        } else {
            upper = true;
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'N');
    }
    out
}

/// A DNS-label style name (`Mattermost Pods` → `mattermost-pods`), at most `max` long.
pub fn kebab(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out = out.trim_matches('-').to_string();
    out.truncate(max);
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(pascal("privApp"), "PrivApp");
        assert_eq!(pascal("efs_mt-2"), "EfsMt2");
        assert_eq!(pascal("1st"), "N1st");
        assert_eq!(kebab("Mattermost Pods!", 63), "mattermost-pods");
    }
}

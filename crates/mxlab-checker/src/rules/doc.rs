//! docs/rules.md, generated from the catalog so it cannot drift from it.

use std::fmt::Write;

use crate::rule::Role;

use super::RULES;

/// The rule reference as Markdown: every rule in catalog order (the verdict's tie-break order).
pub fn markdown() -> String {
    let mut out = String::from(
        "# Rules\n\n\
         Generated from the rule catalog (`crates/mxlab-checker/src/rules/mod.rs`) by\n\
         `MXLAB_BLESS=1 cargo test -p mxlab-checker --test rules_doc`; a test fails when this\n\
         file is stale. `mxlab rules` prints the same catalog.\n\n\
         A **cause** explains why a recipient's mail was delayed or failed, and is chosen because\n\
         it explains a failure the administrator saw (or, with nothing seen, one the checker's own\n\
         probes meet). An **observation** is worth knowing but never the verdict. The verdict is\n\
         the cause that explains the most affected recipients; on a tie the more severe, then the\n\
         one listed first here.\n\n\
         A finding's severity is its rule's, with one exception: a receiver-policy cause\n\
         (`sender.*`, `dmarc.reject`) that only the checker's own lookups see — no refusal shows\n\
         it yet — is reported as a **warning**, since it explains nothing that happened.\n\n",
    );
    for r in RULES {
        let role = match r.role {
            Role::Cause => "cause",
            Role::Observation => "observation",
            Role::Outcome => "outcome",
        };
        let _ = writeln!(out, "## `{}`\n", r.id);
        let _ = writeln!(out, "*{}, {role}.* {}\n", r.severity.as_str(), r.title);
        let _ = writeln!(out, "{}\n", r.explanation);
        let _ = writeln!(out, "**Fires on:** {}\n", r.fires);
        if !r.remediation.is_empty() {
            out.push_str("**What to do:**\n\n");
            for step in r.remediation {
                let _ = writeln!(out, "- {step}");
            }
            out.push('\n');
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

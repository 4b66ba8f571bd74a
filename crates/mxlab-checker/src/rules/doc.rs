//! docs/rules.md and docs/rules.ja.md, generated from the catalog so they cannot drift from it.

use std::fmt::Write;

use mxlab_vocab::Lang;

use crate::rule::Role;
use crate::words;

use super::RULES;

/// The rule reference as Markdown: every rule in catalog order (the verdict's tie-break order).
pub fn markdown() -> String {
    markdown_in(Lang::En)
}

/// The file the reference in `lang` is kept in, under docs/.
pub fn file_name(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "rules.md",
        Lang::Ja => "rules.ja.md",
    }
}

/// The rule reference in `lang`. The Japanese leaves out what fires each rule: that is about
/// the evidence's English and the checker's matching, and stays in docs/rules.md.
pub fn markdown_in(lang: Lang) -> String {
    let mut out = String::from(match lang {
        Lang::En => {
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
         it yet — is reported as a **warning**, since it explains nothing that happened.\n\n"
        }
        Lang::Ja => {
            "# ルール\n\n\
         ルール カタログ (`crates/mxlab-checker/src/rules/mod.rs`、日本語は `rules/ja.rs`) から\n\
         `MXLAB_BLESS=1 cargo test -p mxlab-checker --test rules_doc` で生成しています。このファイルが\n\
         古くなるとテストが失敗します。`mxlab rules --lang ja` も同じカタログを表示します。\n\
         各ルールが何を証拠として検出されるかは [rules.md](rules.md) (英語) を参照してください。\n\n\
         **原因** は、受信者へのメールが遅延または失敗した理由を説明するもので、管理者が目にした\n\
         失敗 (何も見ていない場合はチェッカー自身のプローブが遭遇した失敗) を説明するときに選ばれます。\n\
         **観察** は知っておく価値がありますが、判定にはなりません。判定は、影響を受けた受信者を最も\n\
         多く説明する原因です。同数の場合は重大度の高いもの、さらに同じならここで先に挙げたものです。\n\n\
         検出事項の重大度はルールの重大度と同じですが、例外が 1 つあります。受信側のポリシーに関する\n\
         原因 (`sender.*`、`dmarc.reject`) のうち、チェッカー自身の参照でしか見えないもの (まだ拒否として\n\
         現れていないもの) は、起きたことを何も説明しないため **警告** として報告します。\n\n"
        }
    });
    for r in RULES {
        let text = r.text(lang);
        let role = match (lang, r.role) {
            (Lang::En, Role::Cause) => "cause",
            (Lang::En, Role::Observation) => "observation",
            (Lang::En, Role::Outcome) => "outcome",
            (Lang::Ja, Role::Cause) => "原因",
            (Lang::Ja, Role::Observation) => "観察",
            (Lang::Ja, Role::Outcome) => "結果",
        };
        let _ = writeln!(out, "## `{}`\n", r.id);
        let severity = words::severity(r.severity, lang);
        match lang {
            Lang::En => {
                let _ = writeln!(out, "*{severity}, {role}.* {}\n", text.title);
            }
            Lang::Ja => {
                let _ = writeln!(out, "*{severity}、{role}。* {}\n", text.title);
            }
        }
        let _ = writeln!(out, "{}\n", text.explanation);
        if lang == Lang::En {
            let _ = writeln!(out, "**Fires on:** {}\n", r.fires);
        }
        if !text.remediation.is_empty() {
            out.push_str(match lang {
                Lang::En => "**What to do:**\n\n",
                Lang::Ja => "**対処:**\n\n",
            });
            for step in text.remediation {
                let _ = writeln!(out, "- {step}");
            }
            out.push('\n');
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

//! The loader and the zone parser under damaged input (the `cargo test` mirror of
//! `cargo xtask fuzz-scenario`): never a panic, and every loader error has a place.

use mxlab_scenario::catalog;
use mxlab_scenario::zone::parse_zone;
use proptest::prelude::*;

fn stories() -> Vec<String> {
    catalog::names()
        .filter_map(catalog::text)
        .map(str::to_string)
        .collect()
}

/// A damage done to a text: cut, delete, insert or repeat at some place.
#[derive(Debug, Clone)]
enum Damage {
    Cut(usize),
    Delete(usize, usize),
    Insert(usize, String),
    Repeat(usize, usize, usize),
}

fn damage() -> impl Strategy<Value = Damage> {
    let piece = prop_oneof![
        Just("\"".to_string()),
        Just("[[smtp.hosts]]\n".to_string()),
        Just("\n[[smtp.hosts.rules]]\nstage = \"rcpt\"\n".to_string()),
        Just("$INCLUDE /etc/passwd\n".to_string()),
        Just("\u{0}".to_string()),
        Just("\r".to_string()),
        Just("= 2024-05-08T20:40:00Z\n".to_string()),
        Just("\"\"\"".to_string()),
        Just("( ".to_string()),
        Just("IN CNAME x\n".to_string()),
        ".{0,12}",
    ];
    prop_oneof![
        any::<usize>().prop_map(Damage::Cut),
        (any::<usize>(), 0usize..200).prop_map(|(a, n)| Damage::Delete(a, n)),
        (any::<usize>(), piece).prop_map(|(a, p)| Damage::Insert(a, p)),
        (any::<usize>(), 1usize..80, 1usize..20).prop_map(|(a, n, k)| Damage::Repeat(a, n, k)),
    ]
}

fn apply(text: &str, damages: &[Damage]) -> String {
    let mut t = text.to_string();
    let boundary = |t: &str, at: usize| {
        let mut at = at % (t.len() + 1);
        while !t.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    for d in damages {
        match d {
            Damage::Cut(at) => {
                let at = boundary(&t, *at);
                t.truncate(at);
            }
            Damage::Delete(at, n) => {
                let a = boundary(&t, *at);
                let b = boundary(&t, (a + n).min(t.len()));
                t.replace_range(a..b.max(a), "");
            }
            Damage::Insert(at, piece) => {
                let at = boundary(&t, *at);
                t.insert_str(at, piece);
            }
            Damage::Repeat(at, n, k) => {
                let a = boundary(&t, *at);
                let b = boundary(&t, (a + n).min(t.len())).max(a);
                let piece = t[a..b].repeat(*k);
                t.insert_str(b, &piece);
            }
        }
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_damaged_story_loads_or_says_where(
        story in any::<prop::sample::Index>(),
        damages in prop::collection::vec(damage(), 1..6),
    ) {
        let stories = stories();
        let text = apply(&stories[story.index(stories.len())], &damages);
        if let Err(e) = mxlab_scenario::load_str("fuzz", "fuzz.toml", &text) {
            prop_assert!(e.line >= 1 && e.col >= 1, "no place: {e}");
            prop_assert!(e.line <= text.lines().count() + 1, "past the end: {e}");
            prop_assert!(e.message.chars().count() <= 400, "too long: {e}");
        }
    }

    #[test]
    fn arbitrary_text_never_panics_the_loader(text in "\\PC{0,400}") {
        if let Err(e) = mxlab_scenario::load_str("fuzz", "fuzz.toml", &text) {
            prop_assert!(e.line >= 1, "no place: {e}");
        }
    }

    #[test]
    fn arbitrary_bytes_decode_or_say_where(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Err(e) = mxlab_scenario::source::decode("fuzz.toml", bytes) {
            prop_assert!(e.line >= 1 && e.col >= 1, "no place: {e}");
        }
    }

    #[test]
    fn damaged_zones_never_panic(
        lines in prop::collection::vec(
            prop_oneof![
                Just("@ 300 IN SOA ns1 hostmaster 1 3600 600 86400 300".to_string()),
                Just("@ 300 IN NS ns1".to_string()),
                Just("mx1 300 IN A 127.0.0.10".to_string()),
                Just("mx1 300 IN CNAME other".to_string()),
                Just("txt 300 IN TXT \"v=spf1 -all\"".to_string()),
                Just("( 1 2".to_string()),
                Just("$ORIGIN x.test.".to_string()),
                Just("$INCLUDE /etc/hostname".to_string()),
                Just("$TTL 300".to_string()),
                "[ -~]{0,40}",
            ],
            0..12,
        ),
    ) {
        let text = lines.join("\n");
        if let Err(e) = parse_zone("partner.test", &text) {
            prop_assert!(e.line <= text.lines().count(), "past the end: {e:?}");
        }
    }
}

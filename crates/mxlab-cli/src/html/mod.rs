//! The HTML form of reports, for people: one self-contained page per story (the style inline;
//! no script, no font, nothing fetched), readable without JavaScript and printable, and an
//! index when several stories are written at once. Every report string is escaped; nothing
//! here reads a clock, so a page is byte-identical for the same run.

mod clock;
mod escape;
mod index;
mod page;
mod timeline;

pub use index::{IndexEntry, index_page};
pub use page::{Story, notices_page, story_page};

const STYLE: &str = include_str!("style.css");

/// The page around a body.
fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{} · mxlab</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n<footer>Replayed by mxlab on a virtual clock: every time on this page is story time.</footer>\n</body>\n</html>\n",
        escape::esc(title)
    )
}

//! The splitter's tests: rules one by one, then generated inputs.

use super::*;

fn plain(text: &str, max: usize) -> Vec<String> {
    split_text::<()>(text, &[], max)
        .into_iter()
        .map(|p| p.text)
        .collect()
}

fn texts<T>(parts: &[Part<T>]) -> Vec<&str> {
    parts.iter().map(|p| p.text.as_str()).collect()
}

fn entity<T>(offset: usize, length: usize, data: T) -> Entity<T> {
    Entity {
        offset,
        length,
        data,
    }
}

/// The text at a UTF-16 range, as a client reads an entity.
fn utf16_slice(text: &str, offset: usize, length: usize) -> String {
    let units: Vec<u16> = text.encode_utf16().collect();
    String::from_utf16(&units[offset..offset + length]).expect("entity on char boundaries")
}

/// Byte offsets of the parts in `original`, asserting they appear in order with
/// only whitespace missing before, between and after them (separators, and
/// blanks that would have made a blank part).
fn locate(original: &str, parts: &[&str]) -> Vec<usize> {
    let (mut cursor, mut starts) = (0, Vec::new());
    for part in parts {
        let rest = &original[cursor..];
        let found = (0..=rest.len())
            .filter(|&i| rest.is_char_boundary(i))
            .find(|&i| rest[i..].starts_with(part) && rest[..i].chars().all(char::is_whitespace));
        let gap = found.unwrap_or_else(|| panic!("{part:?} missing in {original:?}"));
        starts.push(cursor + gap);
        cursor += gap + part.len();
    }
    assert!(
        original[cursor..].chars().all(char::is_whitespace),
        "text lost at the end"
    );
    starts
}

/// A tiny xorshift PRNG, so the generated cases are the same on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    /// One of the `|`-separated choices.
    fn pick<'a>(&mut self, choices: &'a str) -> &'a str {
        let count = choices.split('|').count();
        choices
            .split('|')
            .nth(self.below(count))
            .unwrap_or_default()
    }
}

const FRAGMENTS: &str = "a|word|longerword|é|e\u{301}|😀|👍🏽|👨‍👩‍👧|❤\u{FE0F}| | |\n|\n\n|  ";

#[test]
fn utf16_len_counts_a_surrogate_pair_as_two() {
    assert_eq!(utf16_len("a😀é"), 4);
}

#[test]
fn a_text_within_the_limit_is_one_unchanged_part() {
    let (text, entities) = ("bold  \n\n text ", vec![entity(0, 4, "bold")]);
    let parts = split_text(text, &entities, 20);
    assert_eq!(
        parts,
        [Part {
            text: text.to_owned(),
            entities
        }]
    );
}

#[test]
fn a_paragraph_beats_a_line_which_beats_a_word_which_beats_a_hard_cut() {
    assert_eq!(plain("aaa\n\nbbb\nccc ddd", 12), ["aaa", "bbb\nccc ddd"]);
    assert_eq!(
        plain("aaa bbb\nccc ddd eee", 12),
        ["aaa bbb", "ccc ddd eee"]
    );
    assert_eq!(plain("aaaa bbbbbbbb", 10), ["aaaa", "bbbbbbbb"]);
}

#[test]
fn the_last_boundary_of_the_best_level_keeps_parts_full() {
    assert_eq!(plain("aa bb cc dd ee ff", 10), ["aa bb cc", "dd ee ff"]);
}

#[test]
fn the_separator_is_dropped_and_no_part_is_empty() {
    assert_eq!(plain("aaaa  \n\n  bbbb", 8), ["aaaa", "bbbb"]);
    assert_eq!(plain("aaaaaaaa \n ", 8), ["aaaaaaaa"]);
}

#[test]
fn a_part_that_would_hold_only_blanks_is_dropped() {
    // Cutting after the blank crosses no entity, so it was the best cut.
    let parts = split_text(" rgbg", &[entity(1, 2, "bold")], 2);
    assert_eq!(texts(&parts), ["rg", "bg"]);
    assert_eq!(parts[0].entities, [entity(0, 2, "bold")]);
    assert_eq!(plain(&format!("{}x", " ".repeat(12)), 8), ["    x"]);
    assert_eq!(
        split_html("<b> </b>\n<i>aaaa bbbb</i>", 4),
        ["<i>aaaa</i>", "<i>bbbb</i>"]
    );
}

#[test]
fn exactly_4096_units_is_one_part_and_4097_is_two() {
    let full = "a".repeat(4092) + "😀😀";
    assert_eq!(plain(&full, MAX_MESSAGE_UTF16), [full.as_str()]);
    assert_eq!(
        plain(&(full.clone() + "b"), MAX_MESSAGE_UTF16),
        [full, "b".into()]
    );
}

#[test]
fn an_emoji_straddling_the_limit_is_not_split() {
    assert_eq!(plain("aaaaaaaaa😀b", 10), ["aaaaaaaaa", "😀b"]);
}

#[test]
fn a_hard_cut_keeps_skin_tones_zwj_sequences_and_accents_whole() {
    assert_eq!(plain("aaaaaaaa👍🏽b", 10), ["aaaaaaaa", "👍🏽b"]);
    assert_eq!(plain("aaaa👨‍👩‍👧b", 10), ["aaaa", "👨‍👩‍👧b"]);
    assert_eq!(plain("aaaaaaaaae\u{301}", 10), ["aaaaaaaaa", "e\u{301}"]);
}

#[test]
fn a_word_boundary_outside_an_entity_beats_a_paragraph_break_inside_it() {
    let bold = entity(4, 10, "bold"); // "two\n\nthree"
    let parts = split_text(
        "one two\n\nthree four five six",
        std::slice::from_ref(&bold),
        20,
    );
    assert_eq!(texts(&parts), ["one two\n\nthree four", "five six"]);
    assert_eq!(parts[0].entities, [bold]);
    assert_eq!(parts[1].entities, []);
}

#[test]
fn an_entity_longer_than_the_limit_is_clipped_into_both_parts() {
    let parts = split_text("xx aaaa bbbb cccc", &[entity(3, 14, "bold")], 10);
    assert_eq!(texts(&parts), ["xx", "aaaa bbbb", "cccc"]);
    assert_eq!(
        parts[0].entities,
        [],
        "the first cut moved outside the entity"
    );
    assert_eq!(parts[1].entities, [entity(0, 9, "bold")]);
    assert_eq!(parts[2].entities, [entity(0, 4, "bold")]);
}

#[test]
fn entity_offsets_are_rebased_in_later_parts() {
    let text = "first paragraph\n\nsecond 😀 has bold and a link";
    let bold = entity(utf16_len("first paragraph\n\nsecond 😀 has "), 4, "bold");
    let link = entity(utf16_len(text) - 6, 6, "link");
    let parts = split_text(text, &[bold.clone(), link.clone()], 30);
    assert_eq!(
        texts(&parts),
        ["first paragraph", "second 😀 has bold and a link"]
    );
    for (original, moved) in [bold, link].iter().zip(&parts[1].entities) {
        assert_eq!(moved.data, original.data);
        let piece = utf16_slice(&parts[1].text, moved.offset, moved.length);
        assert_eq!(piece, utf16_slice(text, original.offset, original.length));
    }
}

#[test]
fn an_entity_covering_only_the_dropped_separator_is_dropped() {
    let entities = [entity(9, 1, "gap"), entity(8, 2, "u")];
    let parts = split_text("aaaa bbbb cccc", &entities, 10);
    assert_eq!(texts(&parts), ["aaaa bbbb", "cccc"]);
    assert_eq!(parts[0].entities, [entity(8, 1, "u")]);
    assert_eq!(parts[1].entities, []);
}

/// Up to three entities on char boundaries, each with its index as data.
fn generated_entities(rng: &mut Rng, text: &str) -> Vec<Entity<usize>> {
    let bounds: Vec<usize> = (0..=text.len())
        .filter(|&i| text.is_char_boundary(i))
        .collect();
    let mut at = || utf16_len(&text[..bounds[rng.below(bounds.len())]]);
    let ranges: Vec<(usize, usize)> = (0..3).map(|_| (at(), at())).collect();
    let ranges = ranges.into_iter().filter(|(a, b)| a != b);
    let make = |(id, (a, b)): (usize, (usize, usize))| entity(a.min(b), a.abs_diff(b), id);
    ranges.enumerate().map(make).collect()
}

#[test]
fn generated_texts_split_into_full_parts_that_rebuild_the_text() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..2000 {
        let text: String = (0..rng.below(80)).map(|_| rng.pick(FRAGMENTS)).collect();
        let entities = generated_entities(&mut rng, &text);
        let max = 8 + rng.below(25);
        check_text_parts(&text, &entities, &split_text(&text, &entities, max), max);
    }
}

fn check_text_parts(text: &str, entities: &[Entity<usize>], parts: &[Part<usize>], max: usize) {
    let starts = locate(text, &texts(parts));
    let (mut covered, mut kept) = (vec![Vec::new(); entities.len()], Vec::new());
    for (part, start) in parts.iter().zip(starts) {
        let (len, base) = (utf16_len(&part.text), utf16_len(&text[..start]));
        assert!(len <= max, "{:?} is over {max}", part.text);
        assert!(
            !part.text.is_empty() || parts.len() == 1,
            "empty part of {text:?}"
        );
        let first = part.text.chars().next();
        assert!(
            !first.is_some_and(is_extender),
            "{:?} splits a grapheme",
            part.text
        );
        assert!(
            !part.text.ends_with(ZWJ),
            "{:?} splits a grapheme",
            part.text
        );
        for e in &part.entities {
            assert!(
                e.length > 0 && e.offset + e.length <= len,
                "{e:?} outside its part"
            );
            covered[e.data].extend(base + e.offset..base + e.offset + e.length);
        }
        kept.extend(base..base + len);
    }
    // Each entity covers exactly its original range minus the dropped separators.
    for (e, got) in entities.iter().zip(covered) {
        let want: Vec<usize> = (e.offset..e.offset + e.length)
            .filter(|u| kept.contains(u))
            .collect();
        assert_eq!(got, want, "{e:?} in {text:?}");
    }
}

/// Renders Telegram HTML the simple way, for the markup the tests use: each
/// rendered char with the names of the elements around it.
fn styled(html: &str) -> Vec<(char, Vec<&str>)> {
    const ENTITIES: [(&str, char); 5] = [
        ("&amp;", '&'),
        ("&lt;", '<'),
        ("&gt;", '>'),
        ("&#128512;", '😀'),
        ("&#x1F600;", '😀'),
    ];
    let (mut out, mut open, mut rest) = (Vec::new(), Vec::new(), html);
    while let Some(c) = rest.chars().next() {
        let mut len = c.len_utf8();
        if c == '<' {
            len = rest.find('>').expect("a closed tag") + 1;
            match rest[1..len - 1].strip_prefix('/') {
                Some(_) => drop(open.pop()),
                None => open.push(rest[1..len - 1].split(' ').next().unwrap_or_default()),
            }
        } else if let Some((from, to)) = ENTITIES.iter().find(|(from, _)| rest.starts_with(from)) {
            len = from.len();
            out.push((*to, open.clone()));
        } else {
            out.push((c, open.clone()));
        }
        rest = &rest[len..];
    }
    out
}

fn rendered(html: &str) -> String {
    styled(html).into_iter().map(|(c, _)| c).collect()
}

/// Whether every tag is closed in order and nothing is left open.
fn well_nested(html: &str) -> bool {
    let (mut open, mut rest) = (Vec::new(), html);
    while let Some(at) = rest.find('<') {
        let end = at + rest[at..].find('>').expect("a closed tag");
        let tag = &rest[at + 1..end];
        let name = |t: &str| t.split(' ').next().unwrap_or_default().to_owned();
        rest = &rest[end + 1..];
        match tag.strip_prefix('/') {
            Some(closing) if open.pop() != Some(name(closing)) => return false,
            Some(_) => {}
            None => open.push(name(tag)),
        }
    }
    open.is_empty()
}

#[test]
fn html_within_the_limit_is_one_unchanged_part() {
    let html = "<b>bold</b> &amp; <i>it</i>\n\n";
    assert_eq!(split_html(html, 20), [html]);
}

#[test]
fn html_tags_are_closed_and_reopened_with_their_attributes() {
    let link = r#"<a href="https://x.y/?a=1&amp;b=2">"#;
    let parts = split_html(&format!("<b>{link}aaaa bbbb cccc</a></b>"), 10);
    let want = [
        format!("<b>{link}aaaa bbbb</a></b>"),
        format!("<b>{link}cccc</a></b>"),
    ];
    assert_eq!(parts, want);
}

#[test]
fn html_code_blocks_are_reopened_with_their_language() {
    let open = r#"<pre><code class="language-rust">"#;
    let parts = split_html(
        &format!("{open}line one\nline two\nline three</code></pre>"),
        20,
    );
    let want = [
        format!("{open}line one\nline two</code></pre>"),
        format!("{open}line three</code></pre>"),
    ];
    assert_eq!(parts, want);
}

#[test]
fn html_counts_an_entity_as_one_char_and_never_cuts_inside_it() {
    let parts = split_html(&"&amp;".repeat(20), 10);
    assert_eq!(parts, ["&amp;".repeat(10), "&amp;".repeat(10)]);
}

#[test]
fn html_prefers_a_cut_between_elements() {
    let parts = split_html("<b>aa bb</b> <i>cc dd ee</i>", 10);
    assert_eq!(parts, ["<b>aa bb</b>", "<i>cc dd ee</i>"]);
}

#[test]
fn html_blanks_inside_an_element_at_the_cut_leave_no_empty_element() {
    let parts = split_html("<b>aaaa </b>\n<i> bbbb</i>", 8);
    assert_eq!(parts, ["<b>aaaa</b>", "<i>bbbb</i>"]);
}

const OPENERS: &str = concat!(
    "b|i|u|s|code|pre|tg-spoiler|blockquote expandable|span class=\"tg-spoiler\"|",
    "a href=\"https://x.y/?a=1&amp;b=2\"|tg-emoji emoji-id=\"5368324170671202286\"|",
    "code class=\"language-rust\"",
);
const HTML_TEXT: &str = "a|word|&amp;|&lt;|&#128512;|&#x1F600;|😀|👍🏽|é| | |\n|\n\n";

/// Properly nested HTML, at most three elements deep.
fn generated_html(rng: &mut Rng) -> String {
    let (mut html, mut open) = (String::new(), Vec::new());
    for _ in 0..rng.below(60) {
        match rng.below(6) {
            0 if open.len() < 3 => {
                let opener = rng.pick(OPENERS);
                html += &format!("<{opener}>");
                open.push(opener.split(' ').next().unwrap_or_default());
            }
            1 => {
                html += &open
                    .pop()
                    .map(|name| format!("</{name}>"))
                    .unwrap_or_default()
            }
            _ => html += rng.pick(HTML_TEXT),
        }
    }
    open.iter()
        .rev()
        .for_each(|name| html += &format!("</{name}>"));
    html
}

#[test]
fn generated_html_splits_into_well_nested_parts_that_rebuild_the_text() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    for _ in 0..2000 {
        let html = generated_html(&mut rng);
        let max = 8 + rng.below(25);
        let parts = split_html(&html, max);
        let texts: Vec<String> = parts.iter().map(|p| rendered(p)).collect();
        for (part, text) in parts.iter().zip(&texts) {
            assert!(well_nested(part), "{part:?} from {html:?}");
            assert!(utf16_len(text) <= max, "{part:?} is over {max}");
            assert!(
                !text.is_empty() || parts.len() == 1,
                "empty part of {html:?}"
            );
        }
        locate(
            &rendered(&html),
            &texts.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        // Every visible char keeps the formatting it had.
        let visible = |html| styled(html).into_iter().filter(|(c, _)| !is_separator(*c));
        let split: Vec<_> = parts.iter().flat_map(|p| visible(p)).collect();
        assert_eq!(split, visible(&html).collect::<Vec<_>>(), "{html:?}");
    }
}

#[test]
fn plan_text_returns_a_document_over_max_parts_and_messages_otherwise() {
    let text = "aaaa bbbb cccc";
    assert_eq!(plan_text::<()>(text, &[], 10, 1), Delivery::Document);
    let parts = split_text(text, &[], 10);
    assert_eq!(plan_text::<()>(text, &[], 10, 2), Delivery::Messages(parts));
}

#[test]
fn plan_html_returns_a_document_over_max_parts_and_messages_otherwise() {
    let html = "<b>aaaa bbbb cccc</b>";
    assert_eq!(plan_html(html, 10, 1), Delivery::Document);
    assert_eq!(
        plan_html(html, 10, 2),
        Delivery::Messages(split_html(html, 10))
    );
}

//! Properties of the plain-text splitter over generated texts and entities:
//! every part fits and is not blank, the parts rebuild the text less the
//! dropped whitespace, and every entity of every part is its original clipped
//! to that part.

use std::ops::Range;

use proptest::prelude::*;
use proptest::sample::Index;

use super::*;

fn config(cases: u32) -> ProptestConfig {
    // A failure prints its shrunk input; it becomes a unit test, not a file.
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A piece of text: words, long words with no break, blank runs, emoji and
/// combining sequences, other scripts, any char at all.
fn fragment() -> impl Strategy<Value = String> {
    let blanks = [
        "", " ", "  ", "\n", "\n\n", "\n\n\n", "\t", "\r\n", " \n ", "  \n\n  ",
    ];
    let clusters = [
        "😀",
        "👍🏽",
        "👨‍👩‍👧",
        "❤\u{FE0F}",
        "🇺🇦",
        "e\u{301}",
        "\u{301}",
        "a\u{301}\u{302}\u{303}",
        "\u{200D}",
        "𝕏",
    ];
    prop_oneof![
        4 => "[a-z]{1,8}",
        1 => "[a-zA-Z0-9]{20,80}",
        3 => prop::sample::select(blanks.to_vec()).prop_map(String::from),
        2 => prop::sample::select(clusters.to_vec()).prop_map(String::from),
        1 => "[\u{4e00}-\u{9fff}\u{0400}-\u{04ff}]{1,6}",
        1 => any::<char>().prop_map(String::from),
    ]
}

/// A text and up to four entities on its char boundaries, nested, overlapping
/// or apart, each with its index as data.
fn text_with_entities(
    fragments: Range<usize>,
) -> impl Strategy<Value = (String, Vec<Entity<usize>>)> {
    let text = prop::collection::vec(fragment(), fragments).prop_map(|f| f.concat());
    text.prop_flat_map(|text| {
        let bounds: Vec<usize> = std::iter::once(0)
            .chain(text.chars().scan(0, |units, c| {
                *units += c.len_utf16();
                Some(*units)
            }))
            .collect();
        let ends = prop::collection::vec((any::<Index>(), any::<Index>()), 0..5);
        ends.prop_map(move |ends| {
            let at = |i: &Index| bounds[i.index(bounds.len())];
            let ranges = ends
                .iter()
                .map(|(a, b)| (at(a), at(b)))
                .filter(|(a, b)| a != b);
            let make = |(data, (a, b)): (usize, (usize, usize))| Entity {
                offset: a.min(b),
                length: a.abs_diff(b),
                data,
            };
            (text.clone(), ranges.enumerate().map(make).collect())
        })
    })
}

/// The text at a UTF-16 range, as a client reads an entity.
fn utf16_slice(text: &str, offset: usize, length: usize) -> Option<String> {
    let units: Vec<u16> = text.encode_utf16().collect();
    String::from_utf16(units.get(offset..offset + length)?).ok()
}

/// What a part should carry of `entity`: its piece inside `part` (units of the
/// original text), rebased to the part's start.
fn clipped(entity: &Entity<usize>, part: &Range<usize>) -> Option<Entity<usize>> {
    let start = entity.offset.max(part.start);
    let end = (entity.offset + entity.length).min(part.end);
    (start < end).then(|| Entity {
        offset: start - part.start,
        length: end - start,
        data: entity.data,
    })
}

/// Bytes of whitespace `text` starts with.
fn leading_blanks(text: &str) -> usize {
    text.len() - text.trim_start().len()
}

/// The splitter's contract, checked part by part against the original.
fn check(
    text: &str,
    entities: &[Entity<usize>],
    max: usize,
    parts: &[Part<usize>],
) -> Result<(), TestCaseError> {
    if utf16_len(text) <= max {
        let whole = Part {
            text: text.to_owned(),
            entities: entities.to_vec(),
        };
        let want = [whole];
        prop_assert_eq!(
            parts,
            want.as_slice(),
            "a text within the limit is one part"
        );
        return Ok(());
    }
    if text.trim().is_empty() {
        // Nothing to send: one blank part, which Telegram would refuse anyway.
        prop_assert_eq!(parts.len(), 1);
        prop_assert!(utf16_len(&parts[0].text) <= max && parts[0].text.trim().is_empty());
        return Ok(());
    }
    let mut cursor = 0;
    for (k, part) in parts.iter().enumerate() {
        let len = utf16_len(&part.text);
        prop_assert!(len <= max, "part {} has {} units, over {}", k, len, max);
        prop_assert!(
            !part.text.trim().is_empty(),
            "part {} is blank: Telegram refuses it",
            k
        );
        // Only whitespace is dropped before a part: a blank run holding the
        // separator of a cut, or blanks that would have made a blank part.
        let rest = &text[cursor..];
        let gap = leading_blanks(rest).checked_sub(leading_blanks(&part.text));
        let gap = gap.ok_or_else(|| {
            TestCaseError::fail(format!("part {k} starts with blanks not in the text"))
        })?;
        prop_assert!(
            rest[gap..].starts_with(&part.text),
            "part {} is not the next text: {:?}",
            k,
            part.text
        );
        if k > 0 && gap > 0 {
            prop_assert!(
                !parts[k - 1].text.ends_with(is_separator),
                "a blank run was split before part {}",
                k
            );
        }
        let start = cursor + gap;
        let base = utf16_len(&text[..start]);
        let units = base..base + len;
        let want: Vec<_> = entities.iter().filter_map(|e| clipped(e, &units)).collect();
        prop_assert_eq!(&part.entities, &want, "the entities of part {}", k);
        for e in &part.entities {
            let seen = utf16_slice(&part.text, e.offset, e.length);
            prop_assert!(
                seen.is_some(),
                "{:?} is not on char boundaries of part {}",
                e,
                k
            );
            prop_assert_eq!(seen, utf16_slice(text, base + e.offset, e.length));
        }
        cursor = start + part.text.len();
    }
    let tail = &text[cursor..];
    prop_assert!(
        tail.trim().is_empty(),
        "text lost after the last part: {:?}",
        tail
    );
    if let (true, Some(last)) = (tail.starts_with(is_separator), parts.last()) {
        prop_assert!(
            !last.text.ends_with(is_separator),
            "a trailing blank run was split"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn parts_fit_rebuild_the_text_and_carry_their_entities(
        (text, entities) in text_with_entities(0..150),
        // 2 units hold any char; smaller limits give many cuts in little text.
        max in 2usize..64,
    ) {
        check(&text, &entities, max, &split_text(&text, &entities, max))?;
    }

    #[test]
    fn a_plan_is_the_split_or_a_document_past_the_part_limit(
        (text, entities) in text_with_entities(0..60),
        max in 2usize..64,
        max_parts in 0usize..8,
    ) {
        let parts = split_text(&text, &entities, max);
        let want = match parts.len() <= max_parts {
            true => Delivery::Messages(parts),
            false => Delivery::Document,
        };
        prop_assert_eq!(plan_text(&text, &entities, max, max_parts), want);
    }
}

proptest! {
    // Each case is thousands of units long: fewer of them.
    #![proptest_config(config(12))]

    #[test]
    fn long_texts_split_into_parts_within_telegrams_limit(
        (text, entities) in text_with_entities(400..2400),
    ) {
        check(&text, &entities, MAX_MESSAGE_UTF16, &split_text(&text, &entities, MAX_MESSAGE_UTF16))?;
    }
}

/// HTML-ish text: tags, stray `<` and `&`, entities good and bad, quotes, blanks.
fn html_soup() -> impl Strategy<Value = String> {
    let pieces = [
        "<b>",
        "</b>",
        "<i>",
        "</i>",
        "<a href=\"x>y\">",
        "</a>",
        "<pre><code class=\"l\">",
        "</code></pre>",
        "<",
        ">",
        "</",
        "&",
        "&amp;",
        "&lt;",
        "&#128512;",
        "&#xD800;",
        "&#x;",
        "&;",
        "'",
        "\"",
        "word",
        "aaaaaaaaaaaa",
        "😀",
        "e\u{301}",
        " ",
        "\n",
        "\n\n",
    ];
    let piece = prop_oneof![
        5 => prop::sample::select(pieces.to_vec()).prop_map(String::from),
        1 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..80).prop_map(|p| p.concat())
}

/// The text a reader sees in `html`, as the splitter reads it.
fn rendered(html: &str) -> String {
    parse(html).atoms.iter().map(|a| a.ch).collect()
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_html_splits_into_parts_that_fit_and_keep_every_visible_char(
        html in html_soup(),
        max in 2usize..48,
    ) {
        let parts = split_html(&html, max);
        prop_assert!(!parts.is_empty());
        for part in &parts {
            prop_assert!(utf16_len(&rendered(part)) <= max, "{:?} is over {}", part, max);
        }
        let visible = |text: String| text.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        let split: String = parts.iter().map(|p| visible(rendered(p))).collect();
        prop_assert_eq!(split, visible(rendered(&html)));
    }
}

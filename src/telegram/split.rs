//! Splits long texts into Telegram-sized messages, for plain text with its
//! formatting entities and for text in Telegram's HTML parse mode. Lengths are
//! counted in UTF-16 code units, as Telegram counts them; cuts prefer a paragraph,
//! then a line, then a word boundary, and avoid splitting formatting or emoji.

use std::cmp::Reverse;
use std::ops::Range;

/// Telegram's limit for a message text, in UTF-16 code units.
pub const MAX_MESSAGE_UTF16: usize = 4096;

/// A formatting entity: offset and length in UTF-16 code units, and the
/// rest of it (type, url, ...) carried along untouched.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity<T> {
    pub offset: usize,
    pub length: usize,
    pub data: T,
}

/// One message's worth of text.
#[derive(Debug, Clone, PartialEq)]
pub struct Part<T> {
    pub text: String,
    pub entities: Vec<Entity<T>>,
}

/// How to deliver a text.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery<P> {
    /// One or more messages, in order.
    Messages(Vec<P>),
    /// Too many parts: send the whole text as a .txt document.
    Document,
}

/// The UTF-16 length of a text, as Telegram counts it.
pub fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// Splits plain text with its entities into parts of at most `max` UTF-16 units.
/// A text within the limit comes back as one part, unchanged.
///
/// At each cut the whole run of whitespace holding the separator is dropped, so
/// no part starts or ends with blanks left over from it; entities are clipped to
/// each part and rebased to its start.
pub fn split_text<T: Clone>(text: &str, entities: &[Entity<T>], max: usize) -> Vec<Part<T>> {
    // With no limit on the number of parts there is always an answer.
    split_text_within(text, entities, max, usize::MAX).unwrap_or_default()
}

/// Splits text in Telegram's HTML parse mode into parts whose rendered text is
/// at most `max` UTF-16 units, each valid HTML on its own.
///
/// Tags open at a cut are closed at the end of the part and reopened, attributes
/// and all, at the start of the next. A stray `<` or `&` is kept as literal text.
pub fn split_html(html: &str, max: usize) -> Vec<String> {
    split_html_within(html, max, usize::MAX).unwrap_or_default()
}

/// Plain text: the parts, or Document when there would be more than `max_parts`.
pub fn plan_text<T: Clone>(
    text: &str,
    entities: &[Entity<T>],
    max: usize,
    max_parts: usize,
) -> Delivery<Part<T>> {
    split_text_within(text, entities, max, max_parts).map_or(Delivery::Document, Delivery::Messages)
}

/// HTML: the parts, or Document when there would be more than `max_parts`.
pub fn plan_html(html: &str, max: usize, max_parts: usize) -> Delivery<String> {
    split_html_within(html, max, max_parts).map_or(Delivery::Document, Delivery::Messages)
}

fn split_text_within<T: Clone>(
    text: &str,
    entities: &[Entity<T>],
    max: usize,
    max_parts: usize,
) -> Option<Vec<Part<T>>> {
    if utf16_len(text) <= max {
        let whole = || {
            vec![Part {
                text: text.to_owned(),
                entities: entities.to_vec(),
            }]
        };
        return (max_parts > 0).then(whole);
    }
    let indexed: Vec<(usize, char)> = text.char_indices().collect();
    let layout = Layout::new(indexed.iter().map(|&(_, c)| c).collect());
    let spans: Vec<Range<usize>> = entities
        .iter()
        .map(|e| e.offset..e.offset.saturating_add(e.length))
        .collect();
    let pieces = layout.pieces(&spans, max, max_parts)?;
    let byte_at = |i: usize| indexed.get(i).map_or(text.len(), |&(byte, _)| byte);
    let parts = pieces.into_iter().map(|piece| {
        let units = layout.units[piece.start]..layout.units[piece.end];
        Part {
            text: text
                .get(byte_at(piece.start)..byte_at(piece.end))
                .unwrap_or_default()
                .to_owned(),
            entities: entities.iter().filter_map(|e| clip(e, &units)).collect(),
        }
    });
    Some(parts.collect())
}

/// The piece of an entity inside `units`, rebased to its start; None when empty,
/// which also drops an entity that only covered a dropped separator.
fn clip<T: Clone>(entity: &Entity<T>, units: &Range<usize>) -> Option<Entity<T>> {
    let start = entity.offset.max(units.start);
    let end = entity.offset.saturating_add(entity.length).min(units.end);
    (start < end).then(|| Entity {
        offset: start - units.start,
        length: end - start,
        data: entity.data.clone(),
    })
}

/// A rendered text as chars, with `units[i]` the UTF-16 offset where char `i`
/// starts (and one more entry for the end). Cuts are char indices, so a cut can
/// never fall inside a surrogate pair or a UTF-8 sequence.
struct Layout {
    chars: Vec<char>,
    units: Vec<usize>,
}

/// A cut: the part ends at char `end`, the next begins at `next`, and the
/// separator between them is dropped.
#[derive(Debug, Clone, Copy)]
struct Cut {
    end: usize,
    next: usize,
    level: u8,
}

const HARD: u8 = 0;
const WORD: u8 = 1;
const LINE: u8 = 2;
const PARAGRAPH: u8 = 3;

/// Compared as a tuple: not splitting a grapheme beats crossing fewer entities
/// (a broken emoji looks worse than formatting in two pieces), which beats a
/// better boundary level.
type Rank = (bool, Reverse<usize>, u8);
const IDEAL: Rank = (true, Reverse(0), PARAGRAPH);

const ZWJ: char = '\u{200D}';

impl Cut {
    fn hard(at: usize) -> Self {
        Self {
            end: at,
            next: at,
            level: HARD,
        }
    }
}

impl Layout {
    fn new(chars: Vec<char>) -> Self {
        let ends = chars.iter().scan(0, |total, c| {
            *total += c.len_utf16();
            Some(*total)
        });
        let units = std::iter::once(0).chain(ends).collect();
        Self { chars, units }
    }

    /// The char ranges of the parts, or None when more than `max_parts` are needed;
    /// it stops counting there, so a huge text costs no more than `max_parts` parts.
    fn pieces(
        &self,
        spans: &[Range<usize>],
        max: usize,
        max_parts: usize,
    ) -> Option<Vec<Range<usize>>> {
        let total = self.chars.len();
        let mut pieces = Vec::new();
        let mut start = 0;
        while self.units[total] - self.units[start] > max {
            if pieces.len() >= max_parts {
                return None;
            }
            let cut = self.best_cut(spans, start, max);
            pieces.push(start..cut.end);
            start = cut.next;
        }
        // A cut may have dropped trailing whitespace, leaving nothing to send.
        if start < total || pieces.is_empty() {
            if pieces.len() >= max_parts {
                return None;
            }
            pieces.push(start..total);
        }
        Some(pieces)
    }

    /// The last char index a part starting at `start` may end at.
    fn window_end(&self, start: usize, max: usize) -> usize {
        let fits = self
            .units
            .partition_point(|&u| u <= self.units[start] + max);
        // A char wider than `max` must still make progress.
        fits.saturating_sub(1).max(start + 1)
    }

    /// The best cut in the window: highest rank, and the last one of that rank so
    /// the part is as full as possible.
    fn best_cut(&self, spans: &[Range<usize>], start: usize, max: usize) -> Cut {
        let last = self.window_end(start, max);
        let window = self.units[start]..self.units[last];
        let near: Vec<&Range<usize>> = spans
            .iter()
            .filter(|s| s.start < window.end && s.end > window.start)
            .collect();
        let mut best: Option<(Rank, Cut)> = None;
        for end in (start + 1..=last).rev() {
            for cut in [self.separator_at(end), Some(Cut::hard(end))]
                .into_iter()
                .flatten()
            {
                let rank = self.rank(cut, &near);
                if rank == IDEAL {
                    return cut;
                }
                if best.is_none_or(|(so_far, _)| rank > so_far) {
                    best = Some((rank, cut));
                }
            }
        }
        best.map_or(Cut::hard(last), |(_, cut)| cut)
    }

    fn rank(&self, cut: Cut, near: &[&Range<usize>]) -> Rank {
        let (from, to) = (self.units[cut.end], self.units[cut.next]);
        let crossed = near.iter().filter(|s| s.start < from && s.end > to).count();
        (
            cut.level != HARD || !self.is_glued(cut.end),
            Reverse(crossed),
            cut.level,
        )
    }

    /// A cut before a whitespace run: the whole run is the dropped separator, so no
    /// part is left starting or ending with blanks; its newlines give its level.
    fn separator_at(&self, at: usize) -> Option<Cut> {
        let (&prev, &here) = (self.chars.get(at.checked_sub(1)?)?, self.chars.get(at)?);
        if !is_separator(here) || is_separator(prev) {
            return None;
        }
        let run = self.chars[at..].iter().take_while(|&&c| is_separator(c));
        let (len, newlines) = run.fold((0, 0), |(len, nl), &c| {
            (len + 1, nl + usize::from(c == '\n'))
        });
        let level = match newlines {
            0 => WORD,
            1 => LINE,
            _ => PARAGRAPH,
        };
        Some(Cut {
            end: at,
            next: at + len,
            level,
        })
    }

    /// Whether cutting before char `at` would split an emoji or accented letter.
    fn is_glued(&self, at: usize) -> bool {
        let here = self.chars.get(at).is_some_and(|&c| is_extender(c));
        let after_zwj = at.checked_sub(1).and_then(|i| self.chars.get(i)) == Some(&ZWJ);
        here || after_zwj
    }
}

fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '\n' | '\r' | '\t')
}

/// Chars that attach to the one before: ZWJ, combining marks, variation
/// selectors, skin tones and emoji tag characters.
fn is_extender(c: char) -> bool {
    matches!(c,
        ZWJ
        | '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FE20}'..='\u{FE2F}'
        | '\u{1F3FB}'..='\u{1F3FF}'
        | '\u{E0020}'..='\u{E007F}')
}

/// HTML parsed into rendered chars and the tags between them.
#[derive(Default)]
struct Markup {
    atoms: Vec<Atom>,
    tags: Vec<Tag>,
}

/// One rendered char and the source it comes from (a char or a whole `&...;`).
struct Atom {
    ch: char,
    src: Range<usize>,
}

struct Tag {
    name: String,
    closing: bool,
    src: Range<usize>,
    /// The index of the atom this tag stands before.
    before: usize,
}

fn split_html_within(html: &str, max: usize, max_parts: usize) -> Option<Vec<String>> {
    let markup = parse(html);
    let layout = Layout::new(markup.atoms.iter().map(|a| a.ch).collect());
    let pieces = layout.pieces(&element_spans(&markup, &layout.units), max, max_parts)?;
    Some(html_parts(html, &markup, &pieces))
}

fn parse(html: &str) -> Markup {
    let mut markup = Markup::default();
    let mut at = 0;
    while let Some(rest) = html.get(at..).filter(|rest| !rest.is_empty()) {
        if let Some(tag) = tag_at(rest, at, markup.atoms.len()) {
            at = tag.src.end;
            markup.tags.push(tag);
            continue;
        }
        let literal = rest.chars().next().map_or(('\0', 1), |c| (c, c.len_utf8()));
        // A stray `&` or `<` stays literal text rather than failing the split.
        let (ch, len) = html_entity_at(rest).unwrap_or(literal);
        markup.atoms.push(Atom {
            ch,
            src: at..at + len,
        });
        at += len;
    }
    markup
}

/// The tag at the start of `rest`, if it is one: `<name ...>` or `</name>`.
fn tag_at(rest: &str, offset: usize, before: usize) -> Option<Tag> {
    let body = rest.strip_prefix('<')?;
    let (closing, body) = body.strip_prefix('/').map_or((false, body), |b| (true, b));
    if !body.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let name_len = body.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    let name = body.get(..name_len.unwrap_or(body.len()))?.to_owned();
    let len = tag_len(rest)?;
    Some(Tag {
        name,
        closing,
        src: offset..offset + len,
        before,
    })
}

/// The byte length of the tag starting `rest`, allowing `>` inside quoted values.
fn tag_len(rest: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in rest.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some(i + 1),
            (None, '<') => return None,
            _ => {}
        }
    }
    None
}

/// The char an HTML entity at the start of `rest` stands for, and its byte length.
fn html_entity_at(rest: &str) -> Option<(char, usize)> {
    let body = rest.strip_prefix('&')?;
    let (semi, _) = body.char_indices().take(12).find(|&(_, c)| c == ';')?;
    let ch = match &body[..semi] {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        name => numeric_entity(name)?,
    };
    Some((ch, semi + 2))
}

fn numeric_entity(name: &str) -> Option<char> {
    let number = name.strip_prefix('#')?;
    let value = match number.strip_prefix(['x', 'X']) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => number.parse(),
    };
    char::from_u32(value.ok()?)
}

/// The open tags as the source is read: push on open, pop through the match on close.
struct Replay<'a> {
    tags: &'a [Tag],
    read: usize,
    open: Vec<&'a Tag>,
}

impl<'a> Replay<'a> {
    fn new(tags: &'a [Tag]) -> Self {
        Self {
            tags,
            read: 0,
            open: Vec::new(),
        }
    }

    /// Reads tags while `until` holds.
    fn read_while(&mut self, until: impl Fn(&Tag) -> bool) {
        while let Some(tag) = self.tags.get(self.read).filter(|t| until(t)) {
            self.read += 1;
            apply(&mut self.open, tag);
        }
    }
}

/// Applies one tag to a stack of open elements; returns the elements it closed.
fn apply<'a>(open: &mut Vec<&'a Tag>, tag: &'a Tag) -> Vec<&'a Tag> {
    if !tag.closing {
        open.push(tag);
        return Vec::new();
    }
    // An unmatched closing tag is ignored: the input was not valid anyway.
    match open
        .iter()
        .rposition(|t| t.name.eq_ignore_ascii_case(&tag.name))
    {
        Some(i) => open.drain(i..).collect(),
        None => Vec::new(),
    }
}

/// Each element's rendered range in UTF-16 units, treated like an entity so cuts avoid it.
fn element_spans(markup: &Markup, units: &[usize]) -> Vec<Range<usize>> {
    let mut open = Vec::new();
    let mut spans = Vec::new();
    for tag in &markup.tags {
        let closed = apply(&mut open, tag);
        spans.extend(closed.iter().map(|t| units[t.before]..units[tag.before]));
    }
    let end = units.last().copied().unwrap_or(0);
    spans.extend(open.iter().map(|t| units[t.before]..end));
    spans
}

/// The source of each piece, with the tags open at a cut closed before it and
/// reopened (with their attributes) after it. Tags inside a dropped separator are
/// replaced by that close-and-reopen, so an element holding only blanks vanishes.
fn html_parts(html: &str, markup: &Markup, pieces: &[Range<usize>]) -> Vec<String> {
    let total = markup.atoms.len();
    let source = |range: Range<usize>| html.get(range).unwrap_or_default();
    let mut replay = Replay::new(&markup.tags);
    let mut parts = Vec::with_capacity(pieces.len());
    for (k, piece) in pieces.iter().enumerate() {
        let mut part = String::new();
        let from = if k == 0 {
            0
        } else {
            replay.read_while(|t| t.before <= piece.start);
            replay
                .open
                .iter()
                .for_each(|t| part.push_str(source(t.src.clone())));
            markup
                .atoms
                .get(piece.start)
                .map_or(html.len(), |a| a.src.start)
        };
        if piece.end == total {
            part.push_str(source(from..html.len()));
        } else {
            let to = markup
                .atoms
                .get(piece.end.wrapping_sub(1))
                .map_or(from, |a| a.src.end);
            part.push_str(source(from..to));
            replay.read_while(|t| t.before < piece.end);
            for tag in replay.open.iter().rev() {
                part.push_str("</");
                part.push_str(&tag.name);
                part.push('>');
            }
        }
        parts.push(part);
    }
    parts
}

#[cfg(test)]
mod tests {
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

    /// Byte offsets of the parts in `original`, asserting they appear in order,
    /// the first at the start, with only whitespace missing between and after them.
    fn locate(original: &str, parts: &[&str]) -> Vec<usize> {
        let (mut cursor, mut starts) = (0, Vec::new());
        for part in parts {
            let rest = &original[cursor..];
            let found = (0..=rest.len())
                .filter(|&i| rest.is_char_boundary(i))
                .find(|&i| rest[i..].starts_with(part) && rest[..i].chars().all(is_separator));
            let gap = found.unwrap_or_else(|| panic!("{part:?} missing in {original:?}"));
            assert!(cursor > 0 || gap == 0, "the first part starts the text");
            starts.push(cursor + gap);
            cursor += gap + part.len();
        }
        assert!(
            original[cursor..].chars().all(is_separator),
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
            } else if let Some((from, to)) =
                ENTITIES.iter().find(|(from, _)| rest.starts_with(from))
            {
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
}

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
/// no part starts or ends with blanks left over from it; a part that would hold
/// only blanks is dropped too, as Telegram refuses a blank message. Entities are
/// clipped to each part and rebased to its start.
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
    /// it stops counting there, so a huge text costs no more than `max_parts` parts
    /// (and its blank ones).
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
            let cut = self.best_cut(spans, start, max);
            self.keep(&mut pieces, start..cut.end, max_parts)?;
            start = cut.next;
        }
        // A cut may have dropped trailing whitespace, leaving nothing to send.
        if !pieces.is_empty() {
            self.keep(&mut pieces, start..total, max_parts)?;
            return Some(pieces);
        }
        // Only a blank text leaves no piece: it still comes back as one part.
        if max_parts == 0 {
            return None;
        }
        pieces.push(start..total);
        Some(pieces)
    }

    /// Adds a piece unless it is blank (Telegram refuses a blank message, so its
    /// blanks are dropped like a separator); None when it is one too many.
    fn keep(
        &self,
        pieces: &mut Vec<Range<usize>>,
        piece: Range<usize>,
        max_parts: usize,
    ) -> Option<()> {
        if self.chars[piece.clone()].iter().all(|c| c.is_whitespace()) {
            return Some(());
        }
        if pieces.len() >= max_parts {
            return None;
        }
        pieces.push(piece);
        Some(())
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
    for piece in pieces {
        let mut part = String::new();
        // The first piece may start later, after blanks dropped as a blank part.
        let from = if piece.start == 0 {
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
mod props;
#[cfg(test)]
mod tests;

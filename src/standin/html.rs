//! Telegram's `parse_mode: "HTML"`, as strictly as the Bot API reads it: the
//! tags it knows, the entities it decodes, and its errors for anything else
//! (so a test catches output that was not escaped). The result is what the
//! person sees: the plain text and its formatting entities.

use serde_json::{Value, json};

/// A text read as HTML.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The text without tags, entities decoded.
    pub text: String,
    /// Bot API `MessageEntity` objects, offsets in UTF-16 units.
    pub entities: Vec<Value>,
}

/// Reads `html`; the error is what follows "Bad Request: can't parse
/// entities: " in the Bot API's answer.
pub fn parse(html: &str) -> Result<Parsed, String> {
    let mut reader = Reader {
        html,
        pos: 0,
        text: String::new(),
        utf16: 0,
        open: Vec::new(),
        entities: Vec::new(),
    };
    reader.run()?;
    let mut entities = reader.entities;
    entities.sort_by_key(|e| {
        (
            e["offset"].as_u64(),
            std::cmp::Reverse(e["length"].as_u64()),
        )
    });
    Ok(Parsed {
        text: reader.text,
        entities,
    })
}

/// The tags the Bot API accepts, and the entity each becomes.
fn entity_type(tag: &str) -> Option<&'static str> {
    Some(match tag {
        "b" | "strong" => "bold",
        "i" | "em" => "italic",
        "u" | "ins" => "underline",
        "s" | "strike" | "del" => "strikethrough",
        "span" | "tg-spoiler" => "spoiler",
        "a" => "text_link",
        "code" => "code",
        "pre" => "pre",
        "blockquote" => "blockquote",
        _ => return None,
    })
}

struct Open {
    tag: String,
    /// Where it started in the text, in UTF-16 units.
    offset: usize,
    /// href of `a`, the language of `code class="language-..."`.
    attribute: Option<String>,
}

struct Reader<'a> {
    html: &'a str,
    pos: usize,
    text: String,
    utf16: usize,
    open: Vec<Open>,
    entities: Vec<Value>,
}

impl Reader<'_> {
    fn run(&mut self) -> Result<(), String> {
        while let Some(c) = self.html[self.pos..].chars().next() {
            match c {
                '<' if self.html[self.pos..].starts_with("</") => self.end_tag()?,
                '<' => self.start_tag()?,
                '&' => self.entity(),
                _ => {
                    self.pos += c.len_utf8();
                    self.push(c);
                }
            }
        }
        match self.open.last() {
            Some(open) => Err(format!(
                "Can't find end tag corresponding to start tag \"{}\"",
                open.tag
            )),
            None => Ok(()),
        }
    }

    fn push(&mut self, c: char) {
        self.text.push(c);
        self.utf16 += c.len_utf16();
    }

    /// `&lt;` and its kin; anything else is a literal '&', as Telegram reads it.
    fn entity(&mut self) {
        let rest = &self.html[self.pos..];
        let decoded = rest.find(';').filter(|&end| end <= 10).and_then(|end| {
            let c = decode_entity(&rest[1..end])?;
            Some((c, end + 1))
        });
        let (c, len) = decoded.unwrap_or(('&', 1));
        self.pos += len;
        self.push(c);
    }

    fn start_tag(&mut self) -> Result<(), String> {
        let begin = self.pos;
        self.pos += 1;
        let name = self.name().to_ascii_lowercase();
        let Some(kind) = entity_type(&name) else {
            return Err(format!(
                "Unsupported start tag \"{name}\" at byte offset {begin}"
            ));
        };
        let mut attributes = Vec::new();
        loop {
            self.skip_spaces();
            match self.html[self.pos..].chars().next() {
                None => return Err(format!("Unclosed start tag at byte offset {begin}")),
                Some('>') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => attributes.push(self.attribute(begin)?),
            }
        }
        let find = |key: &str| {
            attributes
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        let attribute = match kind {
            "text_link" => find("href"),
            "code" => find("class").and_then(|c| c.strip_prefix("language-").map(str::to_owned)),
            _ => None,
        };
        if name == "span" && find("class").as_deref() != Some("tg-spoiler") {
            return Err(format!(
                "Tag \"span\" must have class \"tg-spoiler\" at byte offset {begin}"
            ));
        }
        self.open.push(Open {
            tag: name,
            offset: self.utf16,
            attribute,
        });
        Ok(())
    }

    fn end_tag(&mut self) -> Result<(), String> {
        let begin = self.pos;
        self.pos += 2;
        let name = self.name().to_ascii_lowercase();
        self.skip_spaces();
        if !self.html[self.pos..].starts_with('>') {
            return Err(format!("Can't find end of tag at byte offset {begin}"));
        }
        self.pos += 1;
        let Some(open) = self.open.pop() else {
            return Err(format!(
                "Unexpected end tag \"{name}\" at byte offset {begin}"
            ));
        };
        if open.tag != name {
            return Err(format!(
                "Unmatched end tag at byte offset {begin}, expected \"</{}>\", found \"</{name}>\"",
                open.tag
            ));
        }
        self.close(open);
        Ok(())
    }

    /// Makes the entity of a closed tag (none when it holds no text).
    fn close(&mut self, open: Open) {
        let length = self.utf16 - open.offset;
        let kind = entity_type(&open.tag).expect("only known tags are opened");
        // <pre><code class="language-x">: one pre entity with a language.
        let inside_pre = self.open.last().is_some_and(|o| o.tag == "pre");
        if kind == "code" && inside_pre {
            if let Some(parent) = self.open.last_mut() {
                parent.attribute = open.attribute;
            }
            return;
        }
        if length == 0 || (kind == "text_link" && open.attribute.is_none()) {
            return;
        }
        let mut entity = json!({"type": kind, "offset": open.offset, "length": length});
        match (kind, open.attribute) {
            ("text_link", Some(url)) => entity["url"] = json!(url),
            ("pre", Some(language)) => entity["language"] = json!(language),
            _ => {}
        }
        self.entities.push(entity);
    }

    fn name(&mut self) -> &str {
        let start = self.pos;
        let rest = &self.html[start..];
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(rest.len());
        self.pos += len;
        &self.html[start..start + len]
    }

    fn skip_spaces(&mut self) {
        let rest = &self.html[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// `name="value"`, `name='value'`, `name=value` or a bare `name`.
    fn attribute(&mut self, begin: usize) -> Result<(String, String), String> {
        let key = self.name().to_ascii_lowercase();
        if key.is_empty() {
            return Err(format!(
                "Empty attribute name in the tag at byte offset {begin}"
            ));
        }
        self.skip_spaces();
        if !self.html[self.pos..].starts_with('=') {
            return Ok((key, String::new()));
        }
        self.pos += 1;
        self.skip_spaces();
        let rest = &self.html[self.pos..];
        let (raw, used) = match rest.chars().next() {
            Some(quote @ ('"' | '\'')) => match rest[1..].find(quote) {
                Some(end) => (&rest[1..=end], end + 2),
                None => return Err(format!("Unclosed start tag at byte offset {begin}")),
            },
            _ => {
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == '>')
                    .unwrap_or(rest.len());
                (&rest[..end], end)
            }
        };
        self.pos += used;
        Ok((key, decode(raw)))
    }
}

/// The text with every entity decoded (for attribute values).
fn decode(raw: &str) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest
            .find(';')
            .filter(|&end| end <= 10)
            .and_then(|end| Some((decode_entity(&rest[1..end])?, end + 1)));
        let (c, len) = decoded.unwrap_or(('&', 1));
        out.push(c);
        rest = &rest[len..];
    }
    out.push_str(rest);
    out
}

/// The character a named or numeric entity (without `&` and `;`) stands for.
fn decode_entity(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code).filter(|&c| c != '\0')
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_become_entities_and_entities_are_decoded() {
        let parsed =
            parse("<b>bold</b> &lt;x&gt; &amp; &quot;q&quot; <pre>a &lt; b</pre>").unwrap();
        assert_eq!(parsed.text, "bold <x> & \"q\" a < b");
        assert_eq!(
            parsed.entities,
            vec![
                json!({"type": "bold", "offset": 0, "length": 4}),
                json!({"type": "pre", "offset": 15, "length": 5}),
            ]
        );
    }

    #[test]
    fn offsets_count_utf16_units_and_links_keep_their_url() {
        let parsed = parse("😀 <a href=\"https://x.org/?a=1&amp;b=2\">link</a>").unwrap();
        assert_eq!(
            parsed.entities,
            vec![
                json!({"type": "text_link", "offset": 3, "length": 4, "url": "https://x.org/?a=1&b=2"})
            ]
        );
    }

    #[test]
    fn code_inside_pre_gives_the_pre_its_language() {
        let parsed = parse("<pre><code class=\"language-rust\">fn</code></pre>").unwrap();
        assert_eq!(
            parsed.entities,
            vec![json!({"type": "pre", "offset": 0, "length": 2, "language": "rust"})]
        );
    }

    #[test]
    fn an_unescaped_less_than_sign_an_unknown_tag_and_an_unclosed_tag_are_refused() {
        for (html, error) in [
            ("1 < 2", "Unsupported start tag \"\" at byte offset 2"),
            ("<script>x</script>", "Unsupported start tag \"script\""),
            (
                "<b>bold",
                "Can't find end tag corresponding to start tag \"b\"",
            ),
            ("<b><i>x</b></i>", "Unmatched end tag at byte offset 7"),
            ("x</b>", "Unexpected end tag"),
            ("<b", "Unclosed start tag at byte offset 0"),
            ("<span>x</span>", "must have class \"tg-spoiler\""),
        ] {
            let got = parse(html).unwrap_err();
            assert!(got.contains(error), "{html}: {got}");
        }
    }

    #[test]
    fn an_ampersand_that_starts_no_entity_is_kept_as_it_is() {
        assert_eq!(parse("a & b &copy; &#65;").unwrap().text, "a & b &copy; A");
    }
}

//! The commands file as written, before any check: what serde reads, with
//! the span of every value so that a problem can name its line.

use std::{collections::BTreeMap, fmt};

use serde::{Deserialize, Deserializer, de};
use toml::Spanned;

/// One `[[command]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCommand {
    pub name: Spanned<String>,
    pub description: Spanned<String>,
    pub program: Spanned<String>,
    #[serde(default)]
    pub args: Vec<Spanned<String>>,
    #[serde(default)]
    pub params: Vec<Spanned<RawParam>>,
    pub timeout: Option<Spanned<DurationText>>,
    #[serde(default)]
    pub sensitive: bool,
    #[serde(default)]
    pub confirm: bool,
    pub allow: Option<Spanned<Vec<Spanned<RawGrant>>>>,
    pub workdir: Option<Spanned<String>>,
    #[serde(default)]
    pub env: BTreeMap<Spanned<String>, Spanned<String>>,
    pub stdin: Option<Spanned<String>>,
    #[serde(default)]
    pub secret_args: bool,
    /// Files the job leaves in its workdir, sent after it ends.
    #[serde(default)]
    pub output_files: Vec<Spanned<String>>,
    #[serde(default)]
    pub as_photo: bool,
}

/// One entry of `params`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawParam {
    pub name: Spanned<String>,
    #[serde(rename = "type")]
    pub kind: Option<Spanned<String>>,
    pub pattern: Option<Spanned<String>>,
    pub choices: Option<Spanned<Vec<Spanned<String>>>>,
    pub min: Option<Spanned<i64>>,
    pub max: Option<Spanned<i64>>,
    pub default: Option<Spanned<DefaultValue>>,
    #[serde(default)]
    pub allow_dash: bool,
}

/// A duration as written: `"30s"`, `"5m"`, or a number of seconds.
#[derive(Debug)]
pub struct DurationText(pub String);

/// An entry of `allow`: a role's name or a numeric user id.
#[derive(Debug)]
pub enum RawGrant {
    Role(String),
    User(i64),
}

/// A parameter's `default`: text, or a number for an `int`.
#[derive(Debug)]
pub enum DefaultValue {
    Text(String),
    Int(i64),
}

impl DefaultValue {
    /// The value as it would be typed in the chat.
    pub fn as_text(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Int(n) => n.to_string(),
        }
    }
}

/// A visitor taking a string or an integer, so the error for anything else
/// says what was expected instead of "data did not match any variant".
struct TextOrInt<T> {
    expecting: &'static str,
    text: fn(String) -> T,
    int: fn(i64) -> Option<T>,
}

impl<T> de::Visitor<'_> for TextOrInt<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok((self.text)(v.to_owned()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        (self.int)(v).ok_or_else(|| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        let v =
            i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))?;
        self.visit_i64(v)
    }
}

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextOrInt {
            expecting: "a duration such as \"30s\", \"5m\" or \"1h\"",
            text: Self,
            int: |n| u64::try_from(n).ok().map(|n| Self(n.to_string())),
        })
    }
}

impl<'de> Deserialize<'de> for RawGrant {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextOrInt {
            expecting: "\"owner\", \"user\" or a numeric user id",
            text: Self::Role,
            int: |n| Some(Self::User(n)),
        })
    }
}

impl<'de> Deserialize<'de> for DefaultValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextOrInt {
            expecting: "a string, or a number for an int parameter",
            text: Self::Text,
            int: |n| Some(Self::Int(n)),
        })
    }
}

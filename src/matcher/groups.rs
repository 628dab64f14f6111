//! Word groups in patterns (`{child}`), and parsing patterns without reparsing the groups.
//!
//! A group is written once in `lexicon.toml` and used many times: the shipped table's
//! patterns are about 50 KB as written and 106 KB with every group written out, and parsing
//! was most of start-up. So [`GroupParser`] parses each group once, parses a pattern with an
//! empty named capture where each group goes, and puts a copy of the group's parsed form in
//! its place. The result matches exactly what the written-out pattern matches: a group is
//! inserted as `(?:body)`, and a pattern that could read a group differently in place (it
//! sets flags, such as `(?i)` or `(?x)`, uses a group where a capture cannot stand, such as
//! inside `[...]`, or uses a group that does not parse on its own, such as `a)|(b`) is parsed
//! written out, as before.

use std::collections::HashMap;

use regex_automata::util::syntax;
use regex_syntax::hir::{Capture, Hir, HirKind, Repetition};

/// A piece of a pattern as written: text, or the name of a word group.
enum Piece<'a> {
    Text(&'a str),
    Group(&'a str),
}

/// The pieces of `pattern`: `{name}` is a group when `name` is a letter then letters, digits
/// or `_` (so a counted repetition such as `{0,3}` stays text).
fn pieces(pattern: &str) -> impl Iterator<Item = Piece<'_>> {
    let mut rest = pattern;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut from = 0;
        while let Some(open) = rest[from..].find('{').map(|at| at + from) {
            let after = &rest[open + 1..];
            let name_len = after.find('}').filter(|&n| {
                let name = &after[..n];
                name.starts_with(|c: char| c.is_ascii_alphabetic())
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            });
            match name_len {
                Some(_) if open > 0 => {
                    let text = &rest[..open];
                    rest = &rest[open..];
                    return Some(Piece::Text(text));
                }
                Some(n) => {
                    let name = &after[..n];
                    rest = &after[n + 1..];
                    return Some(Piece::Group(name));
                }
                None => from = open + 1,
            }
        }
        let text = rest;
        rest = "";
        Some(Piece::Text(text))
    })
}

/// Expand the groups of one pattern; `Err` holds an unknown group name.
pub fn expand(pattern: &str, groups: &HashMap<&str, &str>) -> Result<String, String> {
    let mut out = String::with_capacity(pattern.len());
    for piece in pieces(pattern) {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Group(name) => {
                let body = groups.get(name).ok_or_else(|| name.to_owned())?;
                out.push_str("(?:");
                out.push_str(body);
                out.push(')');
            }
        }
    }
    Ok(out)
}

/// Name prefix of the empty captures that hold the places of a pattern's groups.
const PLACEHOLDER: &str = "__group";

/// Name of the empty capture that holds the place of a pattern's `k`th group.
fn placeholder(k: usize) -> String {
    format!("{PLACEHOLDER}{k}")
}

/// Parses patterns, each group once.
pub(super) struct GroupParser<'g> {
    groups: &'g HashMap<&'g str, &'g str>,
    config: syntax::Config,
    /// Each group parsed on its own; `None` if it does not parse on its own.
    parsed: HashMap<&'g str, Option<Hir>>,
}

impl<'g> GroupParser<'g> {
    pub(super) fn new(groups: &'g HashMap<&'g str, &'g str>, config: syntax::Config) -> Self {
        GroupParser {
            groups,
            config,
            parsed: HashMap::new(),
        }
    }

    /// Parse one pattern: `written` as in the table, `expanded` with its groups written out.
    /// Errors are those of `expanded`, as if it had been parsed whole.
    pub(super) fn parse(
        &mut self,
        written: &str,
        expanded: &str,
    ) -> Result<Hir, Box<regex_syntax::Error>> {
        match self.parse_in_place(written) {
            Some(hir) => Ok(hir),
            None => syntax::parse_with(expanded, &self.config).map_err(Box::new),
        }
    }

    /// `written` parsed with each group's parsed form put in place; `None` when that might not
    /// be what the written-out pattern means, or anything fails to parse.
    fn parse_in_place(&mut self, written: &str) -> Option<Hir> {
        if sets_flags(written) {
            return None;
        }
        let mut text = String::with_capacity(written.len());
        let mut names = Vec::new();
        for piece in pieces(written) {
            match piece {
                Piece::Text(t) => text.push_str(t),
                Piece::Group(name) => {
                    text.push_str("(?P<");
                    text.push_str(&placeholder(names.len()));
                    text.push_str(">)");
                    names.push(name);
                }
            }
        }
        if names.is_empty() {
            return None;
        }
        for name in &names {
            self.parse_group(name)?;
        }
        let bodies: Vec<&Hir> = names
            .iter()
            .map(|name| self.parsed.get(name).and_then(Option::as_ref))
            .collect::<Option<_>>()?;
        let hir = syntax::parse_with(&text, &self.config).ok()?;
        let mut placed = 0;
        let spliced = splice(hir, &bodies, &mut placed);
        (placed == names.len()).then_some(spliced)
    }

    /// Parse a group on its first use; `None` if it is unknown or does not parse on its own.
    /// A group that parses on its own has balanced parentheses, so written out as `(?:body)`
    /// it is one atom, which its parsed form is; one that does not (`a)|(b` can still make
    /// sense written out) is left to the written-out path.
    fn parse_group(&mut self, name: &str) -> Option<()> {
        let (&key, body) = self.groups.get_key_value(name)?;
        let config = &self.config;
        self.parsed
            .entry(key)
            .or_insert_with(|| syntax::parse_with(body, config).ok())
            .as_ref()
            .map(|_| ())
    }
}

/// True when `pattern` may set a flag (`(?i)`, `(?x:...)`): a flag set before a group applies
/// inside it when written out, but not to a group parsed on its own.
fn sets_flags(pattern: &str) -> bool {
    pattern
        .match_indices("(?")
        .any(|(at, _)| !matches!(pattern.as_bytes().get(at + 2), Some(b':' | b'P' | b'<')))
}

/// `hir` with each placeholder capture replaced by its group's parsed form; counts them in
/// `placed`. Subtrees with no capture are moved as they are.
fn splice(hir: Hir, bodies: &[&Hir], placed: &mut usize) -> Hir {
    if hir.properties().explicit_captures_len() == 0 {
        return hir;
    }
    match hir.into_kind() {
        HirKind::Capture(c) => {
            let k = c.name.as_deref().and_then(|n| n.strip_prefix(PLACEHOLDER));
            match k.and_then(|k| k.parse::<usize>().ok()) {
                Some(k) if k < bodies.len() && matches!(c.sub.kind(), HirKind::Empty) => {
                    *placed += 1;
                    bodies[k].clone()
                }
                _ => Hir::capture(Capture {
                    sub: Box::new(splice(*c.sub, bodies, placed)),
                    ..c
                }),
            }
        }
        HirKind::Concat(items) => Hir::concat(
            items
                .into_iter()
                .map(|h| splice(h, bodies, placed))
                .collect(),
        ),
        HirKind::Alternation(items) => Hir::alternation(
            items
                .into_iter()
                .map(|h| splice(h, bodies, placed))
                .collect(),
        ),
        HirKind::Repetition(r) => Hir::repetition(Repetition {
            sub: Box::new(splice(*r.sub, bodies, placed)),
            ..r
        }),
        // Leaves hold no capture; the filter above returned them already.
        HirKind::Empty => Hir::empty(),
        HirKind::Literal(lit) => Hir::literal(lit.0),
        HirKind::Class(class) => Hir::class(class),
        HirKind::Look(look) => Hir::look(look),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> syntax::Config {
        syntax::Config::new().unicode(false).utf8(false)
    }

    fn groups() -> HashMap<&'static str, &'static str> {
        HashMap::from([("to", "to|2"), ("pic", "pictures?|pix"), ("x", "a)|(b")])
    }

    /// The parsed form must match exactly what the written-out pattern matches.
    fn same_as_written_out(pattern: &str, haystacks: &[&str]) {
        let groups = groups();
        let expanded = expand(pattern, &groups).unwrap();
        let spliced = GroupParser::new(&groups, config())
            .parse(pattern, &expanded)
            .unwrap();
        let whole = syntax::parse_with(&expanded, &config()).unwrap();
        let (a, b) = (
            regex_automata::meta::Regex::builder()
                .build_from_hir(&spliced)
                .unwrap(),
            regex_automata::meta::Regex::builder()
                .build_from_hir(&whole)
                .unwrap(),
        );
        for h in haystacks {
            assert_eq!(a.is_match(*h), b.is_match(*h), "{pattern} on {h:?}");
        }
    }

    #[test]
    fn groups_in_place_match_like_groups_written_out() {
        let hay = [
            "send pictures 2 me",
            "send pix to me",
            "send pic to me",
            "sendpix",
            "to",
            "2",
            "",
        ];
        for pattern in [
            r"\bsend {pic} {to} me\b",
            r"({pic}|{to})+",
            r"\b{to}?\b",
            r"(\w+ ){0,2}{pic}s?",
            r"[{to}]",
            r"(?i)SEND {pic}",
            r"{pic}{0,3}",
        ] {
            same_as_written_out(pattern, &hay);
        }
    }

    #[test]
    fn a_group_that_only_parses_written_out_still_parses() {
        // Written out, `x(?:a)|(b)y` is `x(?:a)` or `(b)y`; the group on its own does not parse.
        same_as_written_out(r"x{x}y", &["xa", "by", "xay", "xby", "ay", ""]);
    }

    #[test]
    fn a_counted_repetition_is_not_a_group() {
        assert_eq!(expand(r"a{2,3}{to}", &groups()).unwrap(), r"a{2,3}(?:to|2)");
        assert_eq!(expand(r"{nope}", &groups()), Err("nope".to_owned()));
    }
}

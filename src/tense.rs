//! Whether a message tells its danger as over: "a man tried to pull a child into his car a
//! couple of years ago", "when I was 13 my mum's friend...", "she's fine now".
//!
//! The danger patterns look for what is happening ("tried to get my son into his car"), not
//! when; told as over, the same words are a report, a question or a request for support, and
//! answering them with 999 first tells the person we did not read them. So a danger pattern
//! in a message with a sign of the past (`told_as_over` in `lexicon.toml`) and no sign of now
//! (`still_now`) counts as negated: the patterns no longer decide danger, and the model's
//! danger output must pass the higher threshold it has for negated danger (never "never":
//! a message the model reads as danger now still gets 999 first).
//!
//! Both lists are data, written as patterns with word groups, so an operator can add "back in
//! year 7" without touching Rust; `check` reports a pattern that does not compile at its line.

use std::sync::OnceLock;

use regex::Regex;

use crate::content::{LexiconDef, Text};
use crate::problem::Problem;

/// The signs of the past and of now, checked when the content is loaded and compiled the
/// first time a message needs them: few messages match a danger pattern, and compiling both
/// at start-up cost 7 ms of the 50 ms budget.
#[derive(Debug, Clone, Default)]
pub struct Tense {
    over: Lazy,
    still_now: Lazy,
}

/// One list as a single pattern (none for an empty list), and its regex once built.
#[derive(Debug, Clone, Default)]
struct Lazy {
    source: Option<String>,
    regex: OnceLock<Result<Option<Regex>, regex::Error>>,
}

impl Lazy {
    fn new(source: Option<String>) -> Self {
        Lazy {
            source,
            regex: OnceLock::new(),
        }
    }

    /// The regex, `None` for an empty list. Each part was parsed as written when the content
    /// was loaded, so only a size limit could make it fail to build: the caller then keeps
    /// danger as danger.
    fn get(&self) -> Result<Option<&Regex>, &regex::Error> {
        self.regex
            .get_or_init(|| self.source.as_deref().map(Regex::new).transpose())
            .as_ref()
            .map(Option::as_ref)
    }
}

impl Tense {
    /// Compile `told_as_over` and `still_now` from the lexicon, with its word groups written
    /// out; every pattern that does not compile is reported at its file and line.
    pub fn build(def: &LexiconDef) -> Result<Self, Vec<Problem>> {
        let groups = def.group_map();
        let mut problems = Vec::new();
        let mut one = |patterns: &[Text], field: &str| -> Option<String> {
            let mut parts = Vec::new();
            for p in patterns {
                let checked = crate::scoring::expanded(p, &groups, field).and_then(|source| {
                    // ASCII classes: what is heard is folded to ASCII words, and Unicode `\w`
                    // and `\b` would make the automaton many times larger and slower to build.
                    let source = format!("(?-u:{})", source.value);
                    match regex_syntax::Parser::new().parse(&source) {
                        Ok(_) => Ok(source),
                        Err(e) => Err(Problem::new(
                            &p.at,
                            Some(field),
                            format!("pattern does not compile: {e}"),
                        )),
                    }
                });
                match checked {
                    Ok(source) => parts.push(source),
                    Err(problem) => problems.push(problem),
                }
            }
            (!parts.is_empty()).then(|| parts.join("|"))
        };
        let over = one(&def.told_as_over, "told_as_over");
        let still_now = one(&def.still_now, "still_now");
        if problems.is_empty() {
            Ok(Tense {
                over: Lazy::new(over),
                still_now: Lazy::new(still_now),
            })
        } else {
            Err(problems)
        }
    }

    /// Whether `heard` (folded, textspeak expanded, as the patterns see it) tells of the past
    /// and has nothing that says it is still going on now. The signs of the past are cut out
    /// before looking for signs of now, so the "now" of "she's fine now" is not one.
    pub fn told_as_over(&self, heard: &str) -> bool {
        // A list that could not be built keeps danger as danger.
        let Ok(Some(over)) = self.over.get() else {
            return false;
        };
        if !over.is_match(heard) {
            return false;
        }
        let rest = over.replace_all(heard, " ");
        match self.still_now.get() {
            Ok(Some(now)) => !now.is_match(&rest),
            Ok(None) => true,
            Err(_) => false,
        }
    }
}

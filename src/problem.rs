//! What is wrong with a `responses/` folder, said so that an operator can find and fix it.

use std::fmt;
use std::sync::Arc;

/// Where a piece of content was written: the file as the operator named it, and a line.
///
/// Carried with every pattern, example and reply so that `check` can point at the line to edit
/// rather than at an intent somewhere in a long file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    /// The file, as shown to the operator (for example `responses/intents.toml`).
    pub file: Arc<str>,
    /// 1-based line; 0 when only the file is known.
    pub line: usize,
}

impl Loc {
    /// A location naming only a file, for problems that belong to the file as a whole.
    pub fn file(file: &Arc<str>) -> Self {
        Loc {
            file: file.clone(),
            line: 0,
        }
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.file)
        } else {
            write!(f, "{}:{}", self.file, self.line)
        }
    }
}

/// One thing wrong with the content, printed by `check` as a single line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where to look.
    pub at: Loc,
    /// The intent (or contact, figure, entity) the problem belongs to, when there is one.
    pub subject: Option<String>,
    /// What is wrong and, where it helps, what to do; one line.
    pub message: String,
}

impl Problem {
    /// A problem at `at`, about `subject` when given.
    pub fn new(at: &Loc, subject: Option<&str>, message: impl Into<String>) -> Self {
        Problem {
            at: at.clone(),
            subject: subject.map(str::to_owned),
            message: one_line(&message.into()),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.subject {
            Some(subject) => write!(f, "{}: {}: {}", self.at, subject, self.message),
            None => write!(f, "{}: {}", self.at, self.message),
        }
    }
}

/// Collapse a message that a library printed over several lines (regex and TOML errors draw
/// carets under the input) into one line, keeping the words.
pub(crate) fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| matches!(c, '^' | '~' | '|' | ' ')))
        .collect::<Vec<_>>()
        .join(" ")
}

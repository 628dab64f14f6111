//! Reads a `responses/` folder (or the copy compiled into the binary) into plain data.
//!
//! This module owns the file format: which files exist, what each field means, and the errors
//! for a file that does not parse. It does not compile patterns or render replies (that is
//! [`crate::brain`]), and the checks that need the whole table live in [`crate::check`].
//! Every string an operator wrote keeps its file and line, so a later check can point at it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use toml::Spanned;

use crate::problem::{Loc, Problem};

/// The files of a content folder, in the order they are read.
pub const FILES: [&str; 7] = [
    "intents.toml",
    "entities.toml",
    "contacts.toml",
    "figures.toml",
    "messages.toml",
    "lexicon.toml",
    "words.txt",
];

/// The default content, compiled in so the binary answers from any directory.
const EMBEDDED: [(&str, &str); 7] = [
    ("intents.toml", include_str!("../responses/intents.toml")),
    ("entities.toml", include_str!("../responses/entities.toml")),
    ("contacts.toml", include_str!("../responses/contacts.toml")),
    ("figures.toml", include_str!("../responses/figures.toml")),
    ("messages.toml", include_str!("../responses/messages.toml")),
    ("lexicon.toml", include_str!("../responses/lexicon.toml")),
    ("words.txt", include_str!("../responses/words.txt")),
];

/// The labelled corpus the model learns from ([`crate::corpus`]), beside [`FILES`].
pub(crate) const CORPUS: &str = "corpus.tsv";

/// The trained model ([`crate::model`]), written by `safeguard-bot train`.
pub(crate) const MODEL: &str = "model.bin";

const EMBEDDED_CORPUS: &str = include_str!("../responses/corpus.tsv");
const EMBEDDED_MODEL: &[u8] = include_bytes!("../responses/model.bin");

/// A file's contents with the name it is shown by.
type Named<T> = (Arc<str>, T);

/// The raw text of a content folder, before parsing.
#[derive(Debug, Clone)]
pub struct Sources {
    /// `(display name, text)` for each of [`FILES`], in that order.
    files: Vec<(Arc<str>, String)>,
    /// `corpus.tsv`, when the folder has one. Borrowed from the binary when embedded, so a
    /// brain that never trains does not copy it.
    pub corpus: Option<(Arc<str>, Cow<'static, str>)>,
    /// `model.bin`, when the folder has one.
    pub model: Option<(Arc<str>, Cow<'static, [u8]>)>,
}

impl Sources {
    /// The content compiled into the binary (the repository's `responses/` at build time).
    pub fn embedded() -> Self {
        let files = EMBEDDED
            .iter()
            .map(|(name, text)| (Arc::from(format!("responses/{name}")), (*text).to_owned()))
            .collect();
        Sources {
            files,
            corpus: Some((
                Arc::from(format!("responses/{CORPUS}")),
                Cow::Borrowed(EMBEDDED_CORPUS),
            )),
            model: Some((
                Arc::from(format!("responses/{MODEL}")),
                Cow::Borrowed(EMBEDDED_MODEL),
            )),
        }
    }

    /// Content given as text, one string per file of [`FILES`] in that order, named as in
    /// the built-in folder (`responses/intents.toml`...), with the built-in corpus and model.
    /// For tests and fuzzing, which make content without writing a folder.
    pub fn from_texts(texts: [String; FILES.len()]) -> Self {
        let files = FILES
            .iter()
            .zip(texts)
            .map(|(name, text)| (Arc::from(format!("responses/{name}")), text))
            .collect();
        let built_in = Sources::embedded();
        Sources {
            files,
            corpus: built_in.corpus,
            model: built_in.model,
        }
    }

    /// `(display name, text)` of each file, in the order of [`FILES`].
    pub fn files(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files
            .iter()
            .map(|(name, text)| (&**name, text.as_str()))
    }

    /// Read every file of a content folder; a missing or unreadable file is one problem.
    pub fn read_dir(dir: &Path) -> Result<Self, Problem> {
        let mut files = Vec::with_capacity(FILES.len());
        for name in FILES {
            let path = dir.join(name);
            let shown: Arc<str> = Arc::from(path.display().to_string());
            match std::fs::read_to_string(&path) {
                Ok(text) => files.push((shown, text)),
                Err(e) => {
                    let why = match e.kind() {
                        std::io::ErrorKind::NotFound => "file not found".to_owned(),
                        std::io::ErrorKind::InvalidData => "file is not UTF-8 text".to_owned(),
                        _ => e.to_string(),
                    };
                    return Err(Problem::new(
                        &Loc::file(&shown),
                        None,
                        format!(
                            "cannot read it ({why}); a content folder needs {}",
                            FILES.join(", ")
                        ),
                    ));
                }
            }
        }
        let optional = |name: &str| -> Result<Option<Named<Vec<u8>>>, Problem> {
            let path = dir.join(name);
            let shown: Arc<str> = Arc::from(path.display().to_string());
            match std::fs::read(&path) {
                Ok(bytes) => Ok(Some((shown, bytes))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Problem::new(
                    &Loc::file(&shown),
                    None,
                    format!("cannot read it ({e})"),
                )),
            }
        };
        let corpus = match optional(CORPUS)? {
            Some((shown, bytes)) => match String::from_utf8(bytes) {
                Ok(text) => Some((shown, Cow::Owned(text))),
                Err(_) => {
                    return Err(Problem::new(
                        &Loc::file(&shown),
                        None,
                        "cannot read it (file is not UTF-8 text)",
                    ))
                }
            },
            None => None,
        };
        let model = optional(MODEL)?.map(|(shown, bytes)| (shown, Cow::Owned(bytes)));
        Ok(Sources {
            files,
            corpus,
            model,
        })
    }

    /// The text of one of [`FILES`] by name (`"lexicon.toml"`); empty for another name.
    pub fn text(&self, name: &str) -> &str {
        FILES
            .iter()
            .position(|f| *f == name)
            .map_or("", |i| self.files[i].1.as_str())
    }

    /// A short, stable fingerprint of the content (FNV-1a over every file), shown in logs and
    /// metrics so an operator can tell which version of the content is answering.
    pub fn version(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for (_, text) in &self.files {
            for b in text.bytes().chain(std::iter::once(0)) {
                hash ^= u64::from(b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        // The model answers too, so a new model is a new version; the corpus does not. The
        // whole file, eight bytes at a time (2 MB in well under a millisecond), so a damaged
        // copy is not taken for the one before.
        for chunk in self.model.iter().flat_map(|(_, m)| m.chunks(8)) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            hash ^= u64::from_le_bytes(word);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{hash:016x}")
    }

    fn get(&self, index: usize) -> (&Arc<str>, &str) {
        let (name, text) = &self.files[index];
        (name, text)
    }
}

/// A string from a content file, with where it was written.
#[derive(Debug, Clone)]
pub struct Text {
    /// The string as written.
    pub value: String,
    /// Its file and line.
    pub at: Loc,
}

/// One row of the intent table: how to recognise what a person wants, and what to answer.
#[derive(Debug, Clone)]
pub struct Intent {
    /// Stable id from DESIGN.md; scripts, tests and metrics use it.
    pub id: Text,
    /// Label of the button that opens this topic.
    pub title: String,
    /// Breaks ties between intents that matched equally well; higher wins.
    pub priority: i32,
    /// A danger intent outranks every other: its reply starts with the danger line (999).
    pub danger: bool,
    /// Reporting replies end with the danger line (999), added when the reply is built.
    pub reporting: bool,
    /// A match preceded by a negation ("I'm not in danger") does not count.
    pub negatable: bool,
    /// Telegram commands (without the slash) that open this topic.
    pub commands: Vec<String>,
    /// Description shown in Telegram's command menu.
    pub command_description: Option<String>,
    /// Regexes that are a clear sign of this intent (weight 2 each).
    pub patterns: Vec<Text>,
    /// Regexes that only hint at this intent (weight 1): alone they make a "did you mean".
    pub hints: Vec<Text>,
    /// Messages that must route here; they are also the test data.
    pub examples: Vec<Text>,
    /// Messages that must not route here.
    pub counter_examples: Vec<Text>,
    /// The reply, a template that may refer to contacts and figures.
    pub reply: Text,
    /// Contacts whose website becomes a URL button under the reply.
    pub links: Vec<Text>,
    /// Intents offered as topic buttons under the reply.
    pub topics: Vec<Text>,
    /// Answers to a specific part of the question (a police force, a year, an organisation),
    /// given before the general reply when their entities are all in the message.
    pub answers: Vec<Answer>,
    /// When an answer applies, give it instead of the general reply (still framed by the
    /// danger line of a danger or reporting intent), so that the question asked is answered
    /// without the whole table after it.
    pub answer_replaces_reply: bool,
    /// With `answer_replaces_reply`: a text given once after the answers (a source line).
    pub answer_footer: Option<Text>,
    /// Give only the first answer that applies (in file order), so that answers never stack
    /// past one screen: put the most urgent first.
    pub one_answer: bool,
}

/// An answer that applies when all of its entities are found in the message.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Entity ids that must all be present.
    pub when: Vec<Text>,
    /// The answer, a template.
    pub text: Text,
    /// Contacts whose website becomes a button when this answer is given; they replace the
    /// intent's own link buttons (an adult's answer must not offer an under-18 service).
    pub links: Vec<Text>,
}

/// Something a message can mention (a police force, a year, an organisation).
#[derive(Debug, Clone)]
pub struct Entity {
    /// Id that answers refer to in `when`.
    pub id: Text,
    /// Regexes that find it in folded text.
    pub patterns: Vec<Text>,
}

/// An organisation the bot may point people to, written once and referred to by id.
#[derive(Debug, Clone)]
pub struct Contact {
    /// Id used in replies as `{contact:id}`, `{phone:id}`, `{web:id}`, `{name:id}`.
    pub id: Text,
    /// Name as people know it.
    pub name: String,
    /// Phone number or text code exactly as it should be dialled or typed.
    pub phone: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Web address as shown in text (no scheme).
    pub web: Option<String>,
    /// Full https URL for a button.
    pub url: Option<String>,
    /// Who it is for, hours, and anything a person needs to know before contacting it.
    pub note: Option<String>,
    /// When the details were last checked against the source.
    pub checked: String,
    /// Where the details were checked.
    pub source: String,
}

/// A number or contact detail that must never be given as current.
#[derive(Debug, Clone)]
pub struct Retired {
    /// The number as it was published.
    pub number: Text,
    /// Why it is retired.
    pub why: String,
}

/// A statistic from the source article, written once and referred to as `{figure:id}`.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Id used in replies.
    pub id: Text,
    /// The value as it should be printed.
    pub value: String,
    /// What it counts.
    pub about: String,
    /// When it was last checked.
    pub checked: String,
    /// Where it comes from.
    pub source: String,
}

/// Texts that are not the answer to an intent.
#[derive(Debug, Clone)]
pub struct Messages {
    /// The line that ends every reporting reply and starts every emergency reply.
    pub danger_line: Text,
    /// Reply to someone who sends a photo, video, file, sticker or voice note.
    pub media: Text,
    /// First line of a "did you mean" reply.
    pub did_you_mean: Text,
    /// Last lines of a "did you mean" reply: the helplines.
    pub did_you_mean_footer: Text,
    /// Topics offered on the welcome and fallback replies.
    pub menu: Vec<Text>,
    /// Telegram's `/forget`: its description in the command menu.
    pub forget_description: Text,
    /// The note after `/forget` deleted every message it asked to.
    pub forget_done: Text,
    /// The note when Telegram could not delete some of them.
    pub forget_partial: Text,
    /// The answer to `/forget` in a group, where it deletes nothing.
    pub forget_in_group: Text,
    /// The label of the button under the note that deletes the note.
    pub forget_button: Text,
}

/// Word-level rules applied before matching: textspeak, typo correction and negation.
#[derive(Debug, Clone, Default)]
pub struct LexiconDef {
    /// Textspeak and spelling variants, each replaced by its standard form ("u" → "you").
    pub textspeak: Vec<(Text, String)>,
    /// Words that turn a following match around ("not", "never").
    pub negations: Vec<String>,
    /// How many tokens before a match a negation may stand.
    pub negation_window: usize,
    /// Words that are correct as typed and never "corrected".
    pub known_words: Vec<String>,
    /// The text of `words.txt`: English words, one a line, also never corrected.
    pub dictionary: String,
    /// Extra words typos may be corrected to, beside those in the examples.
    pub domain_words: Vec<String>,
    /// Shortest word that typo correction considers.
    pub typo_min_len: usize,
    /// Words at least this long may be two edits away; shorter ones one.
    pub typo_two_edits_len: usize,
    /// The lowest score that counts as a confident match; below it, "did you mean".
    pub confident_score: u32,
    /// Named word groups that patterns use as `{name}` (synonyms written once).
    pub groups: Vec<(Text, String)>,
}

impl LexiconDef {
    /// The word groups by name, as [`crate::matcher::expand`] takes them.
    pub fn group_map(&self) -> std::collections::HashMap<&str, &str> {
        self.groups
            .iter()
            .map(|(name, body)| (name.value.as_str(), body.as_str()))
            .collect()
    }
}

/// Everything in a content folder, parsed, with locations kept.
#[derive(Debug, Clone)]
pub struct Content {
    /// The intent table in file order.
    pub intents: Vec<Intent>,
    /// Entities that answers refer to.
    pub entities: Vec<Entity>,
    /// The contacts table.
    pub contacts: Vec<Contact>,
    /// Numbers never to give as current.
    pub retired: Vec<Retired>,
    /// The figures table.
    pub figures: Vec<Figure>,
    /// Texts outside the intent table.
    pub messages: Messages,
    /// Word-level rules.
    pub lexicon: LexiconDef,
    /// Fingerprint of the files this was read from.
    pub version: String,
}

impl Content {
    /// Parse the compiled-in content.
    pub fn embedded() -> Result<Self, Vec<Problem>> {
        Self::parse(&Sources::embedded())
    }

    /// Read and parse a content folder.
    pub fn load_dir(dir: &Path) -> Result<Self, Vec<Problem>> {
        let sources = Sources::read_dir(dir).map_err(|p| vec![p])?;
        Self::parse(&sources)
    }

    /// Parse every file; all syntax and shape problems are reported together.
    pub fn parse(sources: &Sources) -> Result<Self, Vec<Problem>> {
        let mut problems = Vec::new();
        let intents = parse_file::<raw::IntentsFile>(sources, 0, &mut problems);
        let entities = parse_file::<raw::EntitiesFile>(sources, 1, &mut problems);
        let contacts = parse_file::<raw::ContactsFile>(sources, 2, &mut problems);
        let figures = parse_file::<raw::FiguresFile>(sources, 3, &mut problems);
        let messages = parse_file::<raw::MessagesFile>(sources, 4, &mut problems);
        let lexicon = parse_file::<raw::LexiconFile>(sources, 5, &mut problems);
        match (intents, entities, contacts, figures, messages, lexicon) {
            (Some(i), Some(e), Some(c), Some(f), Some(m), Some(l)) if problems.is_empty() => {
                Ok(Content {
                    intents: i.0.intent.into_iter().map(|x| x.locate(&i.1)).collect(),
                    entities: e.0.entity.into_iter().map(|x| x.locate(&e.1)).collect(),
                    retired: c.0.retired.iter().map(|x| x.locate(&c.1)).collect(),
                    contacts: c.0.contact.into_iter().map(|x| x.locate(&c.1)).collect(),
                    figures: f.0.figure.into_iter().map(|x| x.locate(&f.1)).collect(),
                    messages: m.0.locate(&m.1),
                    lexicon: {
                        let mut lexicon = l.0.locate(&l.1);
                        lexicon.dictionary = sources.get(6).1.to_owned();
                        lexicon
                    },
                    version: sources.version(),
                })
            }
            _ => Err(problems),
        }
    }

    /// The intent with this id.
    pub fn intent(&self, id: &str) -> Option<&Intent> {
        self.intents.iter().find(|i| i.id.value == id)
    }

    /// The contact with this id.
    pub fn contact(&self, id: &str) -> Option<&Contact> {
        self.contacts.iter().find(|c| c.id.value == id)
    }

    /// The figure with this id.
    pub fn figure(&self, id: &str) -> Option<&Figure> {
        self.figures.iter().find(|f| f.id.value == id)
    }
}

/// Turns byte offsets from the TOML parser into lines of one file.
struct Locator<'a> {
    file: Arc<str>,
    text: &'a str,
    /// Byte offset of every line break, so that a line number is a binary search rather
    /// than a count from the start of the file for every string (which made loading the
    /// table quadratic in its size).
    breaks: Vec<usize>,
}

impl<'a> Locator<'a> {
    fn new(file: Arc<str>, text: &'a str) -> Self {
        let breaks = text
            .bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'\n')
            .map(|(i, _)| i)
            .collect();
        Locator { file, text, breaks }
    }

    fn loc(&self, offset: usize) -> Loc {
        let offset = offset.min(self.text.len());
        Loc {
            file: self.file.clone(),
            line: self.breaks.partition_point(|&b| b < offset) + 1,
        }
    }

    fn text(&self, s: &Spanned<String>) -> Text {
        // A multi-line string starts on the line after its opening quotes.
        let start = s.span().start;
        let opens_block =
            self.text[start..].starts_with("\"\"\"\n") || self.text[start..].starts_with("'''\n");
        let mut at = self.loc(start);
        if opens_block {
            at.line += 1;
        }
        Text {
            value: s.get_ref().clone(),
            at,
        }
    }

    fn texts(&self, list: &[Spanned<String>]) -> Vec<Text> {
        list.iter().map(|s| self.text(s)).collect()
    }
}

fn parse_file<'a, T: DeserializeOwned>(
    sources: &'a Sources,
    index: usize,
    problems: &mut Vec<Problem>,
) -> Option<(T, Locator<'a>)> {
    let (name, text) = sources.get(index);
    let locator = Locator::new(name.clone(), text);
    match toml::from_str::<T>(text) {
        Ok(value) => Some((value, locator)),
        Err(e) => {
            let at = match e.span() {
                Some(span) => locator.loc(span.start),
                None => Loc::file(name),
            };
            problems.push(Problem::new(
                &at,
                None,
                format!("not valid TOML here: {}", e.message()),
            ));
            None
        }
    }
}

/// The file format as serde reads it. Field names here are what operators write.
mod raw {
    use super::*;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(crate) struct IntentsFile {
        #[serde(default)]
        pub intent: Vec<Intent>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Intent {
        id: Spanned<String>,
        title: String,
        #[serde(default)]
        priority: i32,
        #[serde(default)]
        danger: bool,
        #[serde(default)]
        reporting: bool,
        #[serde(default)]
        negatable: bool,
        #[serde(default)]
        commands: Vec<String>,
        command_description: Option<String>,
        #[serde(default)]
        patterns: Vec<Spanned<String>>,
        #[serde(default)]
        hints: Vec<Spanned<String>>,
        #[serde(default)]
        examples: Vec<Spanned<String>>,
        #[serde(default)]
        counter_examples: Vec<Spanned<String>>,
        reply: Spanned<String>,
        #[serde(default)]
        links: Vec<Spanned<String>>,
        #[serde(default)]
        topics: Vec<Spanned<String>>,
        #[serde(default)]
        answer: Vec<Answer>,
        #[serde(default)]
        answer_replaces_reply: bool,
        answer_footer: Option<Spanned<String>>,
        #[serde(default)]
        one_answer: bool,
    }

    impl Intent {
        pub(crate) fn locate(self, at: &Locator) -> super::Intent {
            super::Intent {
                id: at.text(&self.id),
                title: self.title,
                priority: self.priority,
                danger: self.danger,
                reporting: self.reporting,
                negatable: self.negatable,
                commands: self.commands,
                command_description: self.command_description,
                patterns: at.texts(&self.patterns),
                hints: at.texts(&self.hints),
                examples: at.texts(&self.examples),
                counter_examples: at.texts(&self.counter_examples),
                reply: at.text(&self.reply),
                links: at.texts(&self.links),
                topics: at.texts(&self.topics),
                answers: self
                    .answer
                    .into_iter()
                    .map(|a| super::Answer {
                        when: at.texts(&a.when),
                        text: at.text(&a.text),
                        links: at.texts(&a.links),
                    })
                    .collect(),
                answer_replaces_reply: self.answer_replaces_reply,
                answer_footer: self.answer_footer.as_ref().map(|t| at.text(t)),
                one_answer: self.one_answer,
            }
        }
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Answer {
        when: Vec<Spanned<String>>,
        text: Spanned<String>,
        #[serde(default)]
        links: Vec<Spanned<String>>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(crate) struct EntitiesFile {
        #[serde(default)]
        pub entity: Vec<Entity>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Entity {
        id: Spanned<String>,
        patterns: Vec<Spanned<String>>,
    }

    impl Entity {
        pub(crate) fn locate(self, at: &Locator) -> super::Entity {
            super::Entity {
                id: at.text(&self.id),
                patterns: at.texts(&self.patterns),
            }
        }
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(crate) struct ContactsFile {
        #[serde(default)]
        pub contact: Vec<Contact>,
        #[serde(default)]
        pub retired: Vec<Retired>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Contact {
        id: Spanned<String>,
        name: String,
        phone: Option<String>,
        email: Option<String>,
        web: Option<String>,
        url: Option<String>,
        note: Option<String>,
        checked: String,
        source: String,
    }

    impl Contact {
        pub(crate) fn locate(self, at: &Locator) -> super::Contact {
            super::Contact {
                id: at.text(&self.id),
                name: self.name,
                phone: self.phone,
                email: self.email,
                web: self.web,
                url: self.url,
                note: self.note,
                checked: self.checked,
                source: self.source,
            }
        }
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Retired {
        number: Spanned<String>,
        why: String,
    }

    impl Retired {
        pub(crate) fn locate(&self, at: &Locator) -> super::Retired {
            super::Retired {
                number: at.text(&self.number),
                why: self.why.clone(),
            }
        }
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(crate) struct FiguresFile {
        #[serde(default)]
        pub figure: Vec<Figure>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Figure {
        id: Spanned<String>,
        value: String,
        about: String,
        checked: String,
        source: String,
    }

    impl Figure {
        pub(crate) fn locate(self, at: &Locator) -> super::Figure {
            super::Figure {
                id: at.text(&self.id),
                value: self.value,
                about: self.about,
                checked: self.checked,
                source: self.source,
            }
        }
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(crate) struct MessagesFile {
        danger_line: Spanned<String>,
        media: Spanned<String>,
        did_you_mean: Spanned<String>,
        did_you_mean_footer: Spanned<String>,
        menu: Vec<Spanned<String>>,
        forget_description: Spanned<String>,
        forget_done: Spanned<String>,
        forget_partial: Spanned<String>,
        forget_in_group: Spanned<String>,
        forget_button: Spanned<String>,
    }

    impl MessagesFile {
        pub(crate) fn locate(self, at: &Locator) -> super::Messages {
            super::Messages {
                danger_line: at.text(&self.danger_line),
                media: at.text(&self.media),
                did_you_mean: at.text(&self.did_you_mean),
                did_you_mean_footer: at.text(&self.did_you_mean_footer),
                menu: at.texts(&self.menu),
                forget_description: at.text(&self.forget_description),
                forget_done: at.text(&self.forget_done),
                forget_partial: at.text(&self.forget_partial),
                forget_in_group: at.text(&self.forget_in_group),
                forget_button: at.text(&self.forget_button),
            }
        }
    }

    fn default_window() -> usize {
        3
    }
    fn default_min_len() -> usize {
        4
    }
    fn default_two_edits() -> usize {
        8
    }
    fn default_confident() -> u32 {
        2
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(crate) struct LexiconFile {
        #[serde(default)]
        textspeak: BTreeMap<String, Spanned<String>>,
        #[serde(default)]
        negations: Vec<String>,
        #[serde(default = "default_window")]
        negation_window: usize,
        #[serde(default)]
        known_words: Vec<String>,
        #[serde(default)]
        domain_words: Vec<String>,
        #[serde(default = "default_min_len")]
        typo_min_len: usize,
        #[serde(default = "default_two_edits")]
        typo_two_edits_len: usize,
        #[serde(default = "default_confident")]
        confident_score: u32,
        #[serde(default)]
        groups: BTreeMap<String, Spanned<String>>,
    }

    impl LexiconFile {
        pub(crate) fn locate(self, at: &Locator) -> super::LexiconDef {
            super::LexiconDef {
                textspeak: self
                    .textspeak
                    .into_iter()
                    .map(|(from, to)| {
                        let to_text = at.text(&to);
                        (
                            Text {
                                value: from,
                                at: to_text.at,
                            },
                            to_text.value,
                        )
                    })
                    .collect(),
                negations: self.negations,
                negation_window: self.negation_window,
                known_words: self.known_words,
                dictionary: String::new(),
                domain_words: self.domain_words,
                typo_min_len: self.typo_min_len,
                typo_two_edits_len: self.typo_two_edits_len,
                confident_score: self.confident_score,
                groups: self
                    .groups
                    .into_iter()
                    .map(|(name, body)| {
                        let body = at.text(&body);
                        (
                            Text {
                                value: name,
                                at: body.at,
                            },
                            body.value,
                        )
                    })
                    .collect(),
            }
        }
    }
}

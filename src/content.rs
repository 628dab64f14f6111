//! Reads a `responses/` folder (or the copy compiled into the binary) into plain data.
//!
//! This module owns the file format: which files exist, what each field means, and the errors
//! for a file that does not parse. It does not compile patterns or render replies (that is
//! [`crate::brain`]), and the checks that need the whole table live in [`crate::check`].
//! Every string an operator wrote keeps its file and line, so a later check can point at it.

use std::borrow::Cow;
use std::cell::RefCell;
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

/// One of [`FILES`], by what it holds rather than where it is in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum File {
    Intents,
    Entities,
    Contacts,
    Figures,
    Messages,
    Lexicon,
    Words,
}

impl File {
    /// Its place in [`FILES`] (and in [`Sources`]).
    fn index(self) -> usize {
        self as usize
    }
}

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
/// The model trained with the sentence embedding, only in builds that can run one: the
/// default build would carry its megabyte for nothing.
#[cfg(feature = "embedding")]
const EMBEDDED_EMBEDDING_MODEL: &[u8] = include_bytes!("../responses/model-embedding.bin");
#[cfg(not(feature = "embedding"))]
const EMBEDDED_EMBEDDING_MODEL: &[u8] = &[];

/// The content compiled into the binary, as bytes. Once parsed into a brain it is not read
/// again while serving, yet its pages (about 2 MB: the model, the word list, the tables) stay
/// resident once read; `telegram` lets the kernel drop them ([`crate::telegram`]'s memory).
pub(crate) fn embedded_bytes() -> impl Iterator<Item = &'static [u8]> {
    EMBEDDED
        .map(|(_, text)| text.as_bytes())
        .into_iter()
        .chain([
            EMBEDDED_CORPUS.as_bytes(),
            EMBEDDED_MODEL,
            EMBEDDED_EMBEDDING_MODEL,
        ])
}

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
    /// `model-embedding.bin` ([`crate::embedding::MODEL_FILE`]), the model trained with a
    /// sentence embedding, when the folder has one that is not empty (the built-in folder has
    /// one only in a build with `--features embedding`). Used only with `--embedding`.
    pub embedding_model: Option<(Arc<str>, Cow<'static, [u8]>)>,
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
            embedding_model: (!EMBEDDED_EMBEDDING_MODEL.is_empty()).then(|| {
                (
                    Arc::from(format!("responses/{}", crate::embedding::MODEL_FILE)),
                    Cow::Borrowed(EMBEDDED_EMBEDDING_MODEL),
                )
            }),
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
            embedding_model: built_in.embedding_model,
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
        let embedding_model = optional(crate::embedding::MODEL_FILE)?
            .filter(|(_, bytes)| !bytes.is_empty())
            .map(|(shown, bytes)| (shown, Cow::Owned(bytes)));
        Ok(Sources {
            files,
            corpus,
            model,
            embedding_model,
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
        let mut hash = crate::fnv::Fnv1a::new();
        for (_, text) in &self.files {
            hash.field(text);
        }
        // The model answers too, so a new model is a new version; the corpus does not. The
        // whole file, eight bytes at a time (2 MB in well under a millisecond), so a damaged
        // copy is not taken for the one before.
        if let Some((_, model)) = &self.model {
            hash.words(model);
        }
        let hash = hash.finish();
        format!("{hash:016x}")
    }

    fn get(&self, file: File) -> (&Arc<str>, &str) {
        let (name, text) = &self.files[file.index()];
        (name, text)
    }
}

/// A string from a content file, with where it was written.
///
/// Read straight from the TOML: the parser gives the string's byte span, and the file being
/// read ([`parse_file`] sets it for the time it parses one file) turns that into a line. So the
/// types below are both the file format and what the rest of the bot reads, with no second
/// copy of each to map between.
#[derive(Debug, Clone)]
pub struct Text {
    /// The string as written.
    pub value: String,
    /// Its file and line.
    pub at: Loc,
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<String>::deserialize(deserializer)?;
        Ok(READING.with(|reading| match &*reading.borrow() {
            Some(locator) => locator.text(spanned),
            None => Text {
                value: spanned.into_inner(),
                at: Loc::file(&Arc::from("responses")),
            },
        }))
    }
}

thread_local! {
    /// The file [`parse_file`] is reading on this thread, for [`Text`] to find its lines in.
    static READING: RefCell<Option<Locator>> = const { RefCell::new(None) };
}

/// A table keyed by the operator's words (`textspeak`, `groups`): each key with its value, the
/// key located where its value was written.
fn keyed<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<(Text, String)>, D::Error> {
    let table = BTreeMap::<String, Text>::deserialize(deserializer)?;
    Ok(table
        .into_iter()
        .map(|(key, value)| {
            (
                Text {
                    value: key,
                    at: value.at,
                },
                value.value,
            )
        })
        .collect())
}

/// A table of word lists keyed by the operator's words (`textspeak_kept_after`): each key with
/// its list, the key located where its list begins.
fn keyed_lists<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<(Text, Vec<Text>)>, D::Error> {
    let table = BTreeMap::<String, Spanned<Vec<Text>>>::deserialize(deserializer)?;
    Ok(table
        .into_iter()
        .map(|(key, list)| {
            let at = Reading::at(list.span().start)
                .unwrap_or_else(|| Loc::file(&Arc::from("responses")));
            (Text { value: key, at }, list.into_inner())
        })
        .collect())
}

/// One row of the intent table: how to recognise what a person wants, and what to answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intent {
    /// Stable id from DESIGN.md; scripts, tests and metrics use it.
    pub id: Text,
    /// Label of the button that opens this topic.
    pub title: String,
    /// Breaks ties between intents that matched equally well; higher wins.
    #[serde(default)]
    pub priority: i32,
    /// A danger intent outranks every other: its reply starts with the danger line (999).
    #[serde(default)]
    pub danger: bool,
    /// Reporting replies end with the danger line (999), added when the reply is built.
    #[serde(default)]
    pub reporting: bool,
    /// A match preceded by a negation ("I'm not in danger") does not count.
    #[serde(default)]
    pub negatable: bool,
    /// Telegram commands (without the slash) that open this topic.
    #[serde(default)]
    pub commands: Vec<String>,
    /// Description shown in Telegram's command menu.
    pub command_description: Option<String>,
    /// Regexes that are a clear sign of this intent (weight 2 each).
    #[serde(default)]
    pub patterns: Vec<Text>,
    /// Regexes that only hint at this intent (weight 1): alone they make a "did you mean".
    #[serde(default)]
    pub hints: Vec<Text>,
    /// Messages that must route here; they are also the test data.
    #[serde(default)]
    pub examples: Vec<Text>,
    /// Messages that must not route here.
    #[serde(default)]
    pub counter_examples: Vec<Text>,
    /// The reply, a template that may refer to contacts and figures.
    pub reply: Text,
    /// Contacts whose website becomes a URL button under the reply.
    #[serde(default)]
    pub links: Vec<Text>,
    /// Intents offered as topic buttons under the reply.
    #[serde(default)]
    pub topics: Vec<Text>,
    /// Answers to a specific part of the question (a police force, a year, an organisation),
    /// given before the general reply when their entities are all in the message. Written
    /// `[[intent.answer]]`.
    #[serde(default, rename = "answer")]
    pub answers: Vec<Answer>,
    /// When an answer applies, give it instead of the general reply (still framed by the
    /// danger line of a danger or reporting intent), so that the question asked is answered
    /// without the whole table after it.
    #[serde(default)]
    pub answer_replaces_reply: bool,
    /// With `answer_replaces_reply`: a text given once after the answers (a source line).
    pub answer_footer: Option<Text>,
    /// Give only the first answer that applies (in file order), so that answers never stack
    /// past one screen: put the most urgent first.
    #[serde(default)]
    pub one_answer: bool,
}

/// An answer that applies when all of its entities are found in the message.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// Entity ids that must all be present.
    pub when: Vec<Text>,
    /// The answer, a template.
    pub text: Text,
    /// Contacts whose website becomes a button when this answer is given; they replace the
    /// intent's own link buttons (an adult's answer must not offer an under-18 service).
    #[serde(default)]
    pub links: Vec<Text>,
}

/// Something a message can mention (a police force, a year, an organisation).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entity {
    /// Id that answers refer to in `when`.
    pub id: Text,
    /// Regexes that find it in folded text.
    pub patterns: Vec<Text>,
}

/// An organisation the bot may point people to, written once and referred to by id.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retired {
    /// The number as it was published.
    pub number: Text,
    /// Why it is retired.
    pub why: String,
}

/// A statistic from the source article, written once and referred to as `{figure:id}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LexiconDef {
    /// Textspeak and spelling variants, each replaced by its standard form ("u" → "you").
    #[serde(default, deserialize_with = "keyed")]
    pub textspeak: Vec<(Text, String)>,
    /// Textspeak words kept as typed after certain words, each with the words it follows: in
    /// Welsh "yn y ty" is "in the house", not "in why thank you".
    #[serde(default, deserialize_with = "keyed_lists")]
    pub textspeak_kept_after: Vec<(Text, Vec<Text>)>,
    /// Words that turn a following match around ("not", "never").
    #[serde(default)]
    pub negations: Vec<Text>,
    /// How many tokens before a match a negation may stand.
    #[serde(default = "defaults::negation_window")]
    pub negation_window: usize,
    /// Words that make a following negation a condition, not a denial: "if i dont send more
    /// he posts them" is a threat. A negation up to three words after one does not count.
    #[serde(default = "defaults::conditions")]
    pub conditions: Vec<Text>,
    /// Words that are correct as typed and never "corrected".
    #[serde(default)]
    pub known_words: Vec<String>,
    /// The text of `words.txt`: English words, one a line, also never corrected. Read from its
    /// own file; a compiled brain drops it once its lexicon holds the words.
    #[serde(skip)]
    pub dictionary: String,
    /// Extra words typos may be corrected to, beside those in the examples.
    #[serde(default)]
    pub domain_words: Vec<String>,
    /// Shortest word that typo correction considers.
    #[serde(default = "defaults::typo_min_len")]
    pub typo_min_len: usize,
    /// Words at least this long may be two edits away; shorter ones one.
    #[serde(default = "defaults::typo_two_edits_len")]
    pub typo_two_edits_len: usize,
    /// The lowest score that counts as a confident match; below it, "did you mean".
    #[serde(default = "defaults::confident_score")]
    pub confident_score: u32,
    /// Named word groups that patterns use as `{name}` (synonyms written once).
    #[serde(default, deserialize_with = "keyed")]
    pub groups: Vec<(Text, String)>,
    /// Signs that a message tells of the past ("years ago"): with none of `still_now`, its
    /// danger patterns count as negated ([`crate::tense`]).
    #[serde(default)]
    pub told_as_over: Vec<Text>,
    /// Signs that it is still going on ("tonight", "again"), which keep danger as danger.
    #[serde(default)]
    pub still_now: Vec<Text>,
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
        let intents = parse_file::<IntentsFile>(sources, File::Intents, &mut problems);
        let entities = parse_file::<EntitiesFile>(sources, File::Entities, &mut problems);
        let contacts = parse_file::<ContactsFile>(sources, File::Contacts, &mut problems);
        let figures = parse_file::<FiguresFile>(sources, File::Figures, &mut problems);
        let messages = parse_file::<Messages>(sources, File::Messages, &mut problems);
        let lexicon = parse_file::<LexiconDef>(sources, File::Lexicon, &mut problems);
        match (intents, entities, contacts, figures, messages, lexicon) {
            (Some(i), Some(e), Some(c), Some(f), Some(messages), Some(mut lexicon))
                if problems.is_empty() =>
            {
                lexicon.dictionary = sources.get(File::Words).1.to_owned();
                Ok(Content {
                    intents: i.intent,
                    entities: e.entity,
                    contacts: c.contact,
                    retired: c.retired,
                    figures: f.figure,
                    messages,
                    lexicon,
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
#[derive(Debug)]
struct Locator {
    file: Arc<str>,
    /// The file's length, which an offset is held to.
    len: usize,
    /// Byte offset of every line break, so that a line number is a binary search rather
    /// than a count from the start of the file for every string (which made loading the
    /// table quadratic in its size).
    breaks: Vec<usize>,
    /// Byte offset of every `"""` or `'''` that ends its line: where a block string opens (its
    /// text starts on the next line).
    blocks: Vec<usize>,
}

impl Locator {
    fn new(file: Arc<str>, text: &str) -> Self {
        let breaks: Vec<usize> = text
            .bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'\n')
            .map(|(i, _)| i)
            .collect();
        let blocks = breaks
            .iter()
            .filter(|&&at| at >= 3 && matches!(&text.as_bytes()[at - 3..at], b"\"\"\"" | b"'''"))
            .map(|&at| at - 3)
            .collect();
        Locator {
            file,
            len: text.len(),
            breaks,
            blocks,
        }
    }

    fn loc(&self, offset: usize) -> Loc {
        let offset = offset.min(self.len);
        Loc {
            file: self.file.clone(),
            line: self.breaks.partition_point(|&b| b < offset) + 1,
        }
    }

    fn text(&self, s: Spanned<String>) -> Text {
        // A multi-line string starts on the line after its opening quotes.
        let start = s.span().start;
        let mut at = self.loc(start);
        if self.blocks.binary_search(&start).is_ok() {
            at.line += 1;
        }
        Text {
            value: s.into_inner(),
            at,
        }
    }
}

/// Parse one file of the folder into `T`, every [`Text`] in it located in that file; a
/// syntax or shape error is one problem at its line.
fn parse_file<T: DeserializeOwned>(
    sources: &Sources,
    file: File,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    let (name, text) = sources.get(file);
    // Held until the end: while it lives, `Text` and `Reading::at` find lines in this file.
    let _reading = Reading::file(Locator::new(name.clone(), text));
    match toml::from_str::<T>(text) {
        Ok(value) => Some(value),
        Err(e) => {
            let at = match e.span() {
                Some(span) => Reading::at(span.start).unwrap_or_else(|| Loc::file(name)),
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

/// While alive, [`READING`] holds the file being parsed; dropped, it puts back what was there
/// (also if parsing panics).
struct Reading(Option<Locator>);

impl Reading {
    fn file(locator: Locator) -> Self {
        Reading(READING.with(|reading| reading.replace(Some(locator))))
    }

    /// The line of `offset` in the file being parsed, if one is (while a guard lives).
    fn at(offset: usize) -> Option<Loc> {
        READING.with(|reading| reading.borrow().as_ref().map(|l| l.loc(offset)))
    }
}

impl Drop for Reading {
    fn drop(&mut self) {
        let previous = self.0.take();
        READING.with(|reading| reading.replace(previous));
    }
}

/// `intents.toml`: `[[intent]]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IntentsFile {
    #[serde(default)]
    intent: Vec<Intent>,
}

/// `entities.toml`: `[[entity]]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntitiesFile {
    #[serde(default)]
    entity: Vec<Entity>,
}

/// `contacts.toml`: `[[contact]]` and `[[retired]]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactsFile {
    #[serde(default)]
    contact: Vec<Contact>,
    #[serde(default)]
    retired: Vec<Retired>,
}

/// `figures.toml`: `[[figure]]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FiguresFile {
    #[serde(default)]
    figure: Vec<Figure>,
}

/// What `lexicon.toml` means when it leaves a setting out.
mod defaults {
    pub(super) fn negation_window() -> usize {
        3
    }
    pub(super) fn conditions() -> Vec<super::Text> {
        let at = crate::problem::Loc::file(&"responses/lexicon.toml".into());
        ["if", "unless"]
            .map(|value| super::Text {
                value: value.into(),
                at: at.clone(),
            })
            .into()
    }
    pub(super) fn typo_min_len() -> usize {
        4
    }
    pub(super) fn typo_two_edits_len() -> usize {
        8
    }
    pub(super) fn confident_score() -> u32 {
        2
    }
}

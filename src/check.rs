//! `safeguard-bot check`: everything that can be wrong with a `responses/` folder, found
//! before it reaches a frightened person.
//!
//! Three layers, each reported with file and line where the content has one:
//! 1. the files parse ([`crate::content`]) and compile ([`crate::brain`]): patterns, references
//!    to contacts, figures, entities and topics;
//! 2. the table is complete and safe as written: every intent id of DESIGN.md, a danger intent,
//!    enough examples, no phone number typed into a reply instead of taken from the contacts
//!    table, no retired number anywhere, https links, helplines on the fallback;
//! 3. the table behaves: every example routes to its intent through the same code Telegram
//!    uses, no counter-example does, no reply is over Telegram's 4,096 characters, and every
//!    reply fits one phone screen ([`SCREEN_LIMIT`] characters before the buttons).

use std::collections::HashSet;

use regex::Regex;

use crate::brain::{read_model, Brain, Input, FALLBACK};
use crate::content::{Content, LexiconDef, Sources, Text, CORPUS, MODEL};
use crate::corpus;
use crate::model::train::Settings;
use crate::model::Model;
use crate::problem::{Loc, Problem};
use crate::reply::{Kind, TELEGRAM_LIMIT};

/// The intent ids of DESIGN.md: scripts, evaluation sets and metrics rely on them.
pub const INTENT_IDS: [&str; 20] = [
    "emergency",
    "report_image",
    "report_concern",
    "report_anonymous",
    "report_grooming",
    "sexting_law",
    "sexting_risks",
    "sent_image",
    "received_image",
    "parent_advice",
    "figures",
    "contacts",
    "school_lessons",
    "victim_support",
    "prevention",
    "help",
    "greeting",
    "thanks",
    "privacy",
    "fallback",
];

/// Fewest examples an intent may have: they are its test data.
pub(crate) const MIN_EXAMPLES: usize = 8;

/// Most characters a reply's text may have before its buttons: one phone screen. Someone
/// frightened reads the first screen, not the fourth.
pub const SCREEN_LIMIT: usize = 700;

/// Intents whose general reply (not their answers) may run past [`SCREEN_LIMIT`]: `contacts`
/// when the whole list is asked for. One organisation's answer still fits a screen.
const LONG_LIST_INTENTS: [&str; 1] = ["contacts"];

/// Contacts that the fallback and "did you mean" replies must give (DESIGN.md, principle 3).
const HELPLINES: [&str; 2] = ["childline", "nspcc"];

/// Every problem with a content folder; empty when it is fit to serve.
pub fn check(sources: &Sources) -> Vec<Problem> {
    checked(sources).err().unwrap_or_default()
}

/// The brain for a content folder that passes every check, or every problem found. What
/// `check` accepts is exactly what this returns a brain for; a content reload uses it so that
/// it swaps in only content `check` would pass, compiling it once.
pub fn checked(sources: &Sources) -> Result<Brain, Vec<Problem>> {
    let content = Content::parse(sources)?;
    let mut problems = check_written(&content);
    let model = read_model(sources)
        .map_err(|p| problems.push(p))
        .ok()
        .flatten();
    problems.extend(check_learning(sources, &content, model.as_ref()));
    match Brain::with_model(content, model) {
        Ok(brain) => {
            problems.extend(brain.pattern_problems());
            problems.extend(check_behaviour(&brain));
            if problems.is_empty() {
                Ok(brain)
            } else {
                Err(problems)
            }
        }
        Err(compile) => {
            problems.extend(compile);
            Err(problems)
        }
    }
}

/// The corpus must parse and use only the table's intents, and the model must be there and
/// trained on exactly this folder's data: a model trained on other data answers with what it
/// learned from that, and nobody could tell from `responses/` why.
pub(crate) fn check_learning(
    sources: &Sources,
    content: &Content,
    model: Option<&Model>,
) -> Vec<Problem> {
    let corpus = match corpus::read(sources, content) {
        Ok(corpus) => corpus,
        Err(problems) => return problems,
    };
    let mut problems = Vec::new();
    let Some(model) = model else {
        if sources.model.is_none() {
            problems.push(Problem::new(
                &Loc::file(&beside_corpus(sources, MODEL).into()),
                None,
                "there is no model.bin; run `safeguard-bot train`",
            ));
        }
        return problems;
    };
    let training = corpus::training_set(content, &corpus);
    let expected = corpus::fingerprint(sources, content, &training, &Settings::SHIPPED);
    if model.fingerprint() != expected {
        let at = sources.model.as_ref().map_or_else(
            || Loc::file(&beside_corpus(sources, MODEL).into()),
            |(n, _)| Loc::file(n),
        );
        problems.push(Problem::new(&at, None, "the model was trained on other data than this folder's examples, corpus.tsv and word rules; run `safeguard-bot train`"));
    }
    problems.extend(check_embedding_model(sources, expected));
    problems
}

/// `model-embedding.bin` is optional, but one that is there must be readable, trained with an
/// embedding, and trained on this folder's data: an operator who adds corpus lines and runs
/// plain `train` would otherwise leave the `--embedding` bot answering from the old data.
fn check_embedding_model(sources: &Sources, expected: u64) -> Option<Problem> {
    let (name, bytes) = sources.embedding_model.as_ref()?;
    let retrain = "run `safeguard-bot train --embedding DIR`, or delete the file if the bot runs without an embedding";
    let why = match Model::from_bytes(bytes) {
        Err(why) => format!("cannot read the model: {why}; {retrain}"),
        Ok(m) if m.dense().is_none() => format!("this model was trained without an embedding; {retrain}"),
        Ok(m) if m.fingerprint() != expected => format!("the model was trained on other data than this folder's examples, corpus.tsv and word rules; {retrain}"),
        Ok(_) => return None,
    };
    Some(Problem::new(&Loc::file(name), None, why))
}

/// The path of `file` in the folder the corpus was read from, as shown to the operator.
fn beside_corpus(sources: &Sources, file: &str) -> String {
    sources.corpus.as_ref().map_or_else(
        || format!("responses/{file}"),
        |(name, _)| name.replace(CORPUS, file),
    )
}

/// Checks on the content as written, before it is compiled.
pub(crate) fn check_written(content: &Content) -> Vec<Problem> {
    let mut problems = Vec::new();
    check_ids(content, &mut problems);
    check_phone_numbers(content, &mut problems);
    for intent in &content.intents {
        let id = intent.id.value.as_str();
        if intent.examples.len() < MIN_EXAMPLES {
            problems.push(Problem::new(
                &intent.id.at,
                Some(id),
                format!(
                    "has {} examples; write at least {MIN_EXAMPLES}, the way people really type",
                    intent.examples.len()
                ),
            ));
        }
        for p in intent.patterns.iter().chain(&intent.hints) {
            check_pattern_case(p, id, &mut problems);
        }
    }
    for entity in &content.entities {
        for p in &entity.patterns {
            check_pattern_case(p, &entity.id.value, &mut problems);
        }
    }
    let lexicon = &content.lexicon;
    for (list, words) in [
        ("negations", &lexicon.negations),
        ("conditions", &lexicon.conditions),
    ] {
        for word in words {
            check_one_word(word, list, &mut problems);
        }
    }
    check_textspeak_kept_after(lexicon, &mut problems);
    for contact in &content.contacts {
        if let Some(url) = &contact.url {
            if !url.starts_with("https://") {
                problems.push(Problem::new(
                    &contact.id.at,
                    Some(&contact.id.value),
                    "url must start with https://",
                ));
            }
        }
    }
    if !content.intents.iter().any(|i| i.danger) {
        let at = content.intents.first().map_or_else(
            || Loc::file(&"responses/intents.toml".into()),
            |i| i.id.at.clone(),
        );
        problems.push(Problem::new(&at, None, "no intent has `danger = true`; the emergency intent must, so that danger outranks everything"));
    }
    problems
}

/// A word list read word by word against the folded message (`negations`, `conditions`) can
/// only match one lower-case ASCII word: "If", "as long as" or "unless," would silently never
/// count.
fn check_one_word(word: &Text, list: &str, problems: &mut Vec<Problem>) {
    let w = &word.value;
    if w.is_empty()
        || !w
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        problems.push(Problem::new(
            &word.at,
            Some(list),
            format!("`{w}` is not one lower-case word, but messages are folded to lower-case words separated by spaces before this list is read, so it can never match; write one word in lower case"),
        ));
    }
}

/// `textspeak_kept_after` only matters for words `textspeak` would change, and its words are
/// read one at a time like `negations`.
fn check_textspeak_kept_after(lexicon: &LexiconDef, problems: &mut Vec<Problem>) {
    for (word, after) in &lexicon.textspeak_kept_after {
        if !lexicon
            .textspeak
            .iter()
            .any(|(from, _)| from.value == word.value)
        {
            problems.push(Problem::new(
                &word.at,
                Some("textspeak_kept_after"),
                format!("`{}` is not a word in [textspeak], so keeping it as typed changes nothing; add it to [textspeak] or remove it here", word.value),
            ));
        }
        if after.is_empty() {
            problems.push(Problem::new(
                &word.at,
                Some("textspeak_kept_after"),
                format!("`{}` has an empty list, so it is never kept as typed; list the words after which it is, or remove the line", word.value),
            ));
        }
        for w in after {
            check_one_word(w, "textspeak_kept_after", problems);
        }
    }
}

/// Messages reach the patterns folded to lower-case ASCII, so a pattern with other letters
/// could never match. Escapes such as `\b`, `\W` or `\S` are not letters of the text.
fn check_pattern_case(p: &Text, subject: &str, problems: &mut Vec<Problem>) {
    if !p.value.is_ascii() {
        problems.push(Problem::new(&p.at, Some(subject), "pattern has non-ASCII characters, but messages are folded to plain ASCII before matching (\"é\" is \"e\"), so it can never match; write it in ASCII"));
        return;
    }
    let mut escaped = false;
    for c in p.value.chars() {
        if !escaped && c.is_ascii_uppercase() {
            problems.push(Problem::new(&p.at, Some(subject), format!("pattern has the capital letter `{c}`, but messages are lower-cased before matching, so it can never match; write it in lower case")));
            return;
        }
        escaped = !escaped && c == '\\';
    }
}

fn check_ids(content: &Content, problems: &mut Vec<Problem>) {
    let tables: [(&str, Vec<&Text>); 4] = [
        ("intent", content.intents.iter().map(|i| &i.id).collect()),
        ("entity", content.entities.iter().map(|e| &e.id).collect()),
        ("contact", content.contacts.iter().map(|c| &c.id).collect()),
        ("figure", content.figures.iter().map(|f| &f.id).collect()),
    ];
    for (kind, ids) in &tables {
        let mut seen = HashSet::new();
        for id in ids {
            if !seen.insert(id.value.as_str()) {
                problems.push(Problem::new(
                    &id.at,
                    Some(&id.value),
                    format!("this {kind} id is used twice; ids must be unique"),
                ));
            }
        }
    }
    for intent in &content.intents {
        if !INTENT_IDS.contains(&intent.id.value.as_str()) {
            problems.push(Problem::new(
                &intent.id.at,
                Some(&intent.id.value),
                format!(
                    "not an intent id of DESIGN.md ({}); scripts and metrics rely on those ids",
                    INTENT_IDS.join(", ")
                ),
            ));
        }
    }
    let file: std::sync::Arc<str> = content
        .intents
        .first()
        .map_or_else(|| "responses/intents.toml".into(), |i| i.id.at.file.clone());
    for id in INTENT_IDS {
        if content.intent(id).is_none() {
            problems.push(Problem::new(
                &Loc::file(&file),
                Some(id),
                "intent is missing; every intent id of DESIGN.md must be in the table",
            ));
        }
    }
}

/// Phone numbers live in contacts.toml only; a retired number appears nowhere.
fn check_phone_numbers(content: &Content, problems: &mut Vec<Problem>) {
    let phone =
        Regex::new(r"\b0\d{2,4} ?\d{3} ?\d{3,4}\b|\b(?:999|101|116 ?123|0800 ?1111|85258)\b")
            .expect("constant pattern");
    let mut templates: Vec<(&Text, &str)> = Vec::new();
    for intent in &content.intents {
        templates.push((&intent.reply, &intent.id.value));
        templates.extend(
            intent
                .answers
                .iter()
                .map(|a| (&a.text, intent.id.value.as_str())),
        );
        templates.extend(
            intent
                .answer_footer
                .iter()
                .map(|t| (t, intent.id.value.as_str())),
        );
    }
    let m = &content.messages;
    for (t, name) in [
        (&m.danger_line, "danger_line"),
        (&m.media, "media"),
        (&m.did_you_mean, "did_you_mean"),
        (&m.did_you_mean_footer, "did_you_mean_footer"),
    ] {
        templates.push((t, name));
    }
    for (t, subject) in &templates {
        if let Some(found) = phone.find(&t.value) {
            let mut at = t.at.clone();
            at.line += t.value[..found.start()].matches('\n').count();
            problems.push(Problem::new(&at, Some(subject), format!("phone number `{}` typed into the text; write it once in contacts.toml and refer to it as {{phone:id}}", found.as_str())));
        }
    }
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    for retired in &content.retired {
        let number = digits(&retired.number.value);
        for contact in &content.contacts {
            let fields = [&contact.phone, &contact.note, &contact.web];
            if fields
                .iter()
                .any(|f| f.as_deref().is_some_and(|v| digits(v).contains(&number)))
            {
                problems.push(Problem::new(
                    &contact.id.at,
                    Some(&contact.id.value),
                    format!(
                        "gives the retired number {} ({}); never give it as current",
                        retired.number.value, retired.why
                    ),
                ));
            }
        }
        for (t, subject) in &templates {
            if digits(&t.value).contains(&number) {
                problems.push(Problem::new(
                    &t.at,
                    Some(subject),
                    format!(
                        "mentions the retired number {} ({}); give the current contact instead",
                        retired.number.value, retired.why
                    ),
                ));
            }
        }
    }
}

/// Checks that need the compiled brain: routing of examples, reply length, helplines.
pub(crate) fn check_behaviour(brain: &Brain) -> Vec<Problem> {
    let content = brain.content();
    let mut problems = Vec::new();
    for intent in &content.intents {
        let id = intent.id.value.as_str();
        for example in &intent.examples {
            let reply = brain.respond(Input::Text(&example.value));
            let routed = reply.intent == id && (reply.kind == Kind::Answer || id == FALLBACK);
            if !routed {
                let went = match reply.kind {
                    Kind::DidYouMean => {
                        format!("a \"did you mean\" for {}", reply.candidates.join(", "))
                    }
                    _ => format!("`{}`", reply.intent),
                };
                problems.push(Problem::new(
                    &example.at,
                    Some(id),
                    format!(
                        "example \"{}\" routes to {went}; add or fix a pattern",
                        example.value
                    ),
                ));
            }
        }
        for counter in &intent.counter_examples {
            let reply = brain.respond(Input::Text(&counter.value));
            if reply.intent == id && reply.kind == Kind::Answer {
                problems.push(Problem::new(
                    &counter.at,
                    Some(id),
                    format!(
                        "counter-example \"{}\" routes here; make the patterns more specific",
                        counter.value
                    ),
                ));
            }
        }
        check_length(
            brain,
            intent.id.value.as_str(),
            &intent.reply.at,
            &mut problems,
        );
        check_screen(brain, intent, &mut problems);
    }
    check_messages_screen(brain, &mut problems);
    for helpline in HELPLINES {
        let Some(contact) = content.contact(helpline) else {
            problems.push(Problem::new(
                &Loc::file(&"responses/contacts.toml".into()),
                Some(helpline),
                "contact is missing; the fallback reply must give it",
            ));
            continue;
        };
        let phone = contact.phone.clone().unwrap_or_default();
        let fallback = brain.respond(Input::Topic(FALLBACK)).text();
        if let Some(intent) = content.intent(FALLBACK) {
            if !fallback.contains(&phone) {
                problems.push(Problem::new(
                    &intent.reply.at,
                    Some(FALLBACK),
                    format!(
                        "the fallback reply must give {} ({phone}) so nobody leaves empty-handed",
                        contact.name
                    ),
                ));
            }
        }
        let footer = &content.messages.did_you_mean_footer;
        if !crate::reply::render(footer, content, "did_you_mean_footer")
            .unwrap_or_default()
            .contains(&phone)
        {
            problems.push(Problem::new(
                &footer.at,
                Some("did_you_mean_footer"),
                format!("must give {} ({phone})", contact.name),
            ));
        }
    }
    problems
}

/// The longest text an intent can send (every answer that applies when a message names every
/// entity at once) must fit in one Telegram message.
fn check_length(brain: &Brain, id: &str, at: &Loc, problems: &mut Vec<Problem>) {
    let longest = brain.longest_reply(id);
    let chars = longest.chars().count();
    if chars > TELEGRAM_LIMIT {
        problems.push(Problem::new(at, Some(id), format!("reply can be {chars} characters, over Telegram's limit of {TELEGRAM_LIMIT}; shorten it")));
    }
}

/// Every reply an intent sends for one cause or two (its general reply, or the reply when the
/// entities of one or two of its answers are found, danger line included) must fit one phone
/// screen. A problem points at the (last) answer's line.
fn check_screen(brain: &Brain, intent: &crate::content::Intent, problems: &mut Vec<Problem>) {
    let id = intent.id.value.as_str();
    for (answers, text) in brain.replies_of(id) {
        let chars = text.chars().count();
        if chars <= SCREEN_LIMIT {
            continue;
        }
        let (at, what) = match answers.last().and_then(|&n| intent.answers.get(n)) {
            None if LONG_LIST_INTENTS.contains(&id) => continue,
            None => (&intent.reply.at, "reply".to_owned()),
            Some(last) => {
                let when: Vec<String> = answers
                    .iter()
                    .filter_map(|&n| intent.answers.get(n))
                    .map(|a| {
                        let ids: Vec<&str> = a.when.iter().map(|w| w.value.as_str()).collect();
                        ids.join(" + ")
                    })
                    .collect();
                let what = format!("reply when {} are found", when.join(" and "));
                (&last.text.at, what)
            }
        };
        problems.push(Problem::new(
            at,
            Some(id),
            format!("{what} is {chars} characters, over one phone screen ({SCREEN_LIMIT} before the buttons); shorten it or add an answer for both"),
        ));
    }
}

/// The texts of messages.toml that are sent alone fit one phone screen too.
fn check_messages_screen(brain: &Brain, problems: &mut Vec<Problem>) {
    let m = &brain.content().messages;
    let forget = brain.forget_texts();
    let media = brain.respond(Input::Media).text();
    let did_you_mean = format!(
        "{}\n\n{}",
        render_or_empty(&m.did_you_mean, brain),
        render_or_empty(&m.did_you_mean_footer, brain)
    );
    for (name, at, text) in [
        ("media", &m.media.at, media.as_str()),
        ("did_you_mean", &m.did_you_mean.at, did_you_mean.as_str()),
        ("forget_done", &m.forget_done.at, forget.done.as_str()),
        (
            "forget_partial",
            &m.forget_partial.at,
            forget.partial.as_str(),
        ),
        (
            "forget_in_group",
            &m.forget_in_group.at,
            forget.in_group.as_str(),
        ),
    ] {
        let chars = text.chars().count();
        if chars > SCREEN_LIMIT {
            problems.push(Problem::new(
                at,
                Some(name),
                format!(
                    "is {chars} characters, over one phone screen ({SCREEN_LIMIT}); shorten it"
                ),
            ));
        }
    }
    let description = forget.description.chars().count();
    if !(1..=256).contains(&description) {
        problems.push(Problem::new(
            &m.forget_description.at,
            Some("forget_description"),
            format!("is {description} characters; Telegram's command menu takes 1 to 256"),
        ));
    }
    let button = forget.button.chars().count();
    if !(1..=64).contains(&button) {
        problems.push(Problem::new(
            &m.forget_button.at,
            Some("forget_button"),
            format!("is {button} characters; a button label should be 1 to 64"),
        ));
    }
}

fn render_or_empty(t: &Text, brain: &Brain) -> String {
    crate::reply::render(t, brain.content(), "messages").unwrap_or_default()
}

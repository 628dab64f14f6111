//! What the bot says back, and how reply templates become text.
//!
//! A reply in `responses/` never spells out a phone number or a statistic: it refers to the
//! contacts and figures tables (`{phone:nspcc}`, `{figure:wales_total}`), so a number is
//! written once and corrected in one place. Templates are rendered once, when the content is
//! loaded, so answering a message only copies finished text.

use serde::Serialize;

use crate::content::{Contact, Content, Text};
use crate::problem::Problem;

/// Telegram's limit on the length of one message, in characters.
pub const TELEGRAM_LIMIT: usize = 4096;

/// The intent id reported for a reply to a photo, video, file, sticker or voice note. It is not
/// an intent of the table (no text can route to it), so `ask` and `classify` never print it.
pub(crate) const MEDIA: &str = "media";

/// A button under a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Button {
    /// Opens another topic of the bot (a Telegram callback button, a numbered choice in chat).
    Topic {
        /// Shown on the button.
        label: String,
        /// The intent it opens.
        intent: String,
    },
    /// Opens a website.
    Link {
        /// Shown on the button.
        label: String,
        /// https address.
        url: String,
    },
}

/// How sure the bot is of the intent it answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A confident answer to one intent (or a command, a button press, media).
    Answer,
    /// Several topics fit, or only weakly: the reply asks which one, with the helplines.
    DidYouMean,
    /// Nothing matched: the fallback reply, with the helplines and the topics.
    Fallback,
}

/// The bot's answer to one input: what every door (Telegram, chat, `ask`) shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reply {
    /// The intent answered (for a "did you mean", the best candidate).
    pub intent: String,
    /// Plain text, no markup.
    pub reply: String,
    /// Buttons to show under the text.
    pub buttons: Vec<Button>,
    /// Answer, suggestion or fallback.
    pub kind: Kind,
    /// From 0 to 1: how clearly the message pointed at `intent` rather than at nothing or at
    /// another topic.
    pub confidence: f32,
    /// For a "did you mean", the intents offered, best first; otherwise empty.
    pub candidates: Vec<String>,
}

/// A reply as borrowed pieces of the brain's finished texts, what [`crate::Brain::respond`]
/// gives: the same content as a [`Reply`] ([`ReplyParts::into_owned`]) without copying a
/// kilobyte of text and the buttons for every message, which matters to a door that writes
/// each reply out once and keeps nothing (`classify`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyParts<'a> {
    /// See [`Reply::intent`].
    pub intent: &'a str,
    /// The reply text is these pieces joined by a blank line (`"\n\n"`).
    pub text: Vec<&'a str>,
    /// See [`Reply::buttons`].
    pub buttons: Vec<&'a Button>,
    /// See [`Reply::kind`].
    pub kind: Kind,
    /// See [`Reply::confidence`].
    pub confidence: f32,
    /// See [`Reply::candidates`].
    pub candidates: Vec<&'a str>,
}

impl ReplyParts<'_> {
    /// The owned reply, as every door but `classify` keeps or sends it.
    pub fn into_owned(self) -> Reply {
        Reply {
            intent: self.intent.to_owned(),
            reply: self.text(),
            buttons: self.buttons.into_iter().cloned().collect(),
            kind: self.kind,
            confidence: self.confidence,
            candidates: self.candidates.into_iter().map(str::to_owned).collect(),
        }
    }

    /// The reply's text, its pieces joined (what [`Reply::reply`] holds).
    pub fn text(&self) -> String {
        self.text.join("\n\n")
    }
}

/// Render a template: replace each `{kind:id}` with the contact or figure it names.
///
/// Kinds: `contact` (name, phone, email, web and note in one line), `phone`, `web`, `name`,
/// `email`, `figure`. An unknown kind or id, an empty field, or an unclosed brace is a problem
/// at the template's file and line.
pub fn render(template: &Text, content: &Content, subject: &str) -> Result<String, Problem> {
    let src = &template.value;
    let mut out = String::with_capacity(src.len() + 64);
    let mut rest = src.as_str();
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| {
            problem_at(
                template,
                src.len() - rest.len() + open,
                subject,
                "a `{` is never closed; write references as {phone:id}",
            )
        })?;
        let reference = &after[..close];
        let offset = src.len() - rest.len() + open;
        let value = resolve(reference, content)
            .map_err(|why| problem_at(template, offset, subject, &why))?;
        out.push_str(&value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out.trim().to_owned())
}

fn problem_at(template: &Text, offset: usize, subject: &str, why: &str) -> Problem {
    let mut at = template.at.clone();
    at.line += template.value[..offset].matches('\n').count();
    Problem::new(&at, Some(subject), why)
}

fn resolve(reference: &str, content: &Content) -> Result<String, String> {
    let (kind, id) = reference
        .split_once(':')
        .ok_or_else(|| format!("`{{{reference}}}` is not a reference; write {{phone:id}}, {{contact:id}} or {{figure:id}}"))?;
    let (kind, id) = (kind.trim(), id.trim());
    if kind == "figure" {
        return content
            .figure(id)
            .map(|f| f.value.clone())
            .ok_or_else(|| format!("unknown figure `{id}`: add it to figures.toml or fix the id"));
    }
    let contact = content
        .contact(id)
        .ok_or_else(|| format!("unknown contact `{id}`: add it to contacts.toml or fix the id"))?;
    let field = match kind {
        "contact" => Some(contact_line(contact)),
        "phone" => contact.phone.clone(),
        "web" => contact.web.clone(),
        "email" => contact.email.clone(),
        "name" => Some(contact.name.clone()),
        _ => {
            return Err(format!(
                "unknown reference kind `{kind}`; use contact, phone, web, email, name or figure"
            ))
        }
    };
    field.ok_or_else(|| {
        format!("contact `{id}` has no {kind}; add it to contacts.toml or refer to another field")
    })
}

/// One line naming a contact and every way to reach it: "Childline: 0800 1111, childline.org.uk
/// (for children and young people under 19; free, 24 hours a day)".
pub(crate) fn contact_line(c: &Contact) -> String {
    let ways: Vec<&str> = [&c.phone, &c.email, &c.web]
        .into_iter()
        .filter_map(|f| f.as_deref())
        .collect();
    let mut line = c.name.clone();
    if !ways.is_empty() {
        line.push_str(": ");
        line.push_str(&ways.join(", "));
    }
    if let Some(note) = &c.note {
        line.push_str(" (");
        line.push_str(note);
        line.push(')');
    }
    line
}

//! The bot's one brain: an input (text, command, button press, media) in, a reply out.
//!
//! Every door (Telegram, the terminal chat, `ask`, `classify`, `eval`) calls [`Brain::respond`],
//! so a test of the brain is a test of what Telegram users get. It is pure and synchronous:
//! no I/O, no clock, no Telegram types, and it never sees who sent the message.
//!
//! Deciding, in order:
//! 1. Fold the text ([`crate::normalize`]), apply textspeak and typo rules ([`crate::lexicon`]),
//!    find the table's patterns in one pass ([`crate::matcher`]) and score every intent from
//!    them ([`crate::scoring`]: the weights and the negation rule).
//! 2. Danger first: if a danger intent matched (and was not negated), it answers, whatever
//!    else matched; the next-best topic is offered as a button.
//! 3. Otherwise the best score wins, ties broken by priority. A best score under
//!    `confident_score`, or a tie between intents of equal priority, gets a "did you mean"
//!    with up to three topics and the helplines instead of a confident wrong answer.
//! 4. Nothing matched: the fallback reply, which always gives the helplines.
//!
//! Cost: folding, the word rules and one pass of the matcher per message; replies were
//! rendered at load time, so answering copies text. Building a brain compiles the table
//! (about 35 ms for the shipped one), so build once.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use crate::content::{Content, Intent, Sources, Text};
use crate::embedding::Embedder;
use crate::lexicon::Lexicon;
use crate::matcher::Matcher;
use crate::model::Model;
use crate::normalize::fold;
use crate::problem::{Loc, Problem};
use crate::reply::{render, Button, Kind, ReplyParts, MEDIA};
use crate::scoring::{Scan, Scoring};
use crate::tense::Tense;

/// The id of the intent that answers when nothing else does (a DESIGN.md contract id).
pub const FALLBACK: &str = "fallback";

/// Most topics a "did you mean" offers.
const MAX_CANDIDATES: usize = 3;

/// Something a person did that needs a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input<'a> {
    /// A text message.
    Text(&'a str),
    /// A command, without the slash or the bot's @name (`start`, `help`, `report`...).
    Command(&'a str),
    /// A topic button was pressed; holds the intent id it carries.
    Topic(&'a str),
    /// A photo, video, document, sticker, voice note or other media. Never downloaded.
    Media,
}

/// How one text message was understood, before it is turned into a reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Understanding {
    /// Indexes of intents, best first: the answer, or the candidates of a "did you mean".
    pub ranked: Vec<usize>,
    /// Answer, suggestion or fallback.
    pub kind: Kind,
    /// From 0 to 1, see [`crate::Reply::confidence`].
    pub confidence: f32,
    /// What the matcher found.
    pub scan: Scan,
    /// The text the patterns saw: folded, textspeak expanded, typos corrected.
    pub heard: String,
    /// What the pattern table alone made of it.
    pub patterns: Opinion,
    /// The model's probability for each intent, in table order; empty without a model.
    pub model: Vec<f32>,
    /// The model's probability that danger is happening now (0 without a model).
    pub danger: f32,
    /// Whether the patterns saw danger only negated ("I'm not in danger"), or told as over
    /// ([`Understanding::danger_over`]).
    pub danger_negated: bool,
    /// Whether the patterns saw danger in a message told as over ("two years ago"), and so
    /// counted it as negated ([`crate::tense`]).
    pub danger_over: bool,
    /// Which opinion decided.
    pub decided_by: DecidedBy,
}

/// One way of ranking the topics for a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Opinion {
    /// Indexes of intents, best first.
    pub ranked: Vec<usize>,
    /// Answer, suggestion or fallback.
    pub kind: Kind,
    /// From 0 to 1.
    pub confidence: f32,
}

/// Which part of understanding decided a reply, for `ask --explain` and `eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecidedBy {
    /// The pattern table was sure, and the model did not firmly disagree.
    Patterns,
    /// The learned model.
    Model,
    /// The model's danger probability passed the danger threshold.
    DangerRule,
}

/// When each opinion decides. Chosen by cross-validation on the labelled corpus (see
/// `safeguard-bot train --folds`), never on a blind set; BENCHMARKS.md and EVALUATION.md say
/// how.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    /// Danger is answered when the model's probability of danger reaches this, even if
    /// nothing else is sure: recall first, so it is low.
    pub danger: f32,
    /// The danger threshold when the patterns are sure of another topic.
    pub danger_over_patterns: f32,
    /// Danger is also answered when the model's danger topic (`emergency`) is this likely.
    pub danger_topic: f32,
    /// The model overrules a sure pattern answer when its own top topic is this likely.
    pub overrule: f32,
    /// The model's "none of these" overrules a sure pattern answer when this likely: a
    /// message about something else that shares the topics' words ("is it legal to drive at
    /// 17") gets the fallback and its helplines rather than a wrong topic.
    pub off_topic: f32,
    /// The model answers on its own when its top topic is this likely (measured by 5-fold
    /// cross-validation: below 0.5 its own answers were right 38 % of the time, so it asks)...
    pub answer: f32,
    /// ...and this many times likelier than the next topic (a near-tie is a question).
    pub margin: f32,
    /// A topic is offered in a "did you mean" when it is at least this likely.
    pub candidate: f32,
    /// When the patterns are not sure, the fallback answers once the model gives "none of
    /// these" this much: a message about something else is told what the bot can do.
    pub fallback: f32,
    /// With a sentence embedding ([`Brain::with_embedding`]), the n-gram model alone answers
    /// when its top topic is at least this likely...
    pub embed_unless_sure: f32,
    /// ...and its danger probability under this: about 40 % of messages then skip the 18 ms
    /// transformer. Cross-validated (EVALUATION.md): accuracy and danger caught as with the
    /// embedding on every message.
    pub embed_if_danger: f32,
}

/// The policy the bot runs with.
pub(crate) const POLICY: Policy = Policy {
    danger: 0.25,
    danger_over_patterns: 0.5,
    danger_topic: 0.5,
    overrule: 0.6,
    off_topic: 0.7,
    answer: 0.5,
    margin: 2.0,
    candidate: 0.1,
    fallback: 0.15,
    embed_unless_sure: 0.9,
    embed_if_danger: 0.05,
};

/// One intent with its reply rendered and its buttons resolved.
#[derive(Debug, Clone)]
struct Topic {
    id: String,
    priority: i32,
    danger: bool,
    commands: Vec<String>,
    /// The whole reply as sent when no answer replaces it: `lead`, the body, `tail`.
    reply: String,
    /// The danger line that starts a danger intent's every reply.
    lead: Option<String>,
    /// The danger line that ends a reporting intent's every reply.
    tail: Option<String>,
    /// An answer that applies is given instead of the body (between `lead` and `tail`).
    answers_replace: bool,
    /// Given once after answers that replace the body (a source line).
    answer_footer: Option<String>,
    /// Only the first answer that applies (file order) is given.
    one_answer: bool,
    buttons: Vec<Button>,
    /// The button that opens this topic, offered under other replies.
    button: Button,
    /// `(entity indexes that must all be found, rendered answer)`.
    answers: Vec<(Vec<usize>, String)>,
    /// Link buttons of each answer (same order as `answers`); when an applying answer has
    /// any, they replace the intent's own link buttons.
    answer_links: Vec<Vec<Button>>,
    /// How many of `buttons` are the intent's link buttons (they come first).
    link_count: usize,
}

/// The compiled intent table and texts of one content version; cheap to share, immutable.
#[derive(Debug, Clone)]
pub struct Brain {
    content: Content,
    /// What the patterns of the table count for.
    scoring: Scoring,
    /// The engine that finds them.
    matcher: Matcher,
    lexicon: Lexicon,
    /// Whether a message tells its danger as over.
    tense: Tense,
    topics: Vec<Topic>,
    fallback: usize,
    media: String,
    did_you_mean: String,
    did_you_mean_footer: String,
    forget: ForgetTexts,
    confident_score: u32,
    /// The learned model and, for each of its classes, the topic it stands for.
    model: Option<(Model, Vec<usize>)>,
    /// The model trained with a sentence embedding and the embedder it reads
    /// ([`Brain::with_embedding`]); `model` answers whenever the embedding cannot be had.
    joint: Option<Joint>,
}

/// A model trained with a sentence embedding, the topic of each of its classes, and the
/// embedder whose numbers it was trained on.
#[derive(Debug, Clone)]
struct Joint {
    model: Model,
    classes: Vec<usize>,
    embedder: Arc<dyn Embedder>,
}

/// What the Telegram door says around `/forget`, rendered from `messages.toml`: the brain
/// never deletes anything, but every word the bot says lives in `responses/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForgetTexts {
    /// The command's description in Telegram's menu.
    pub description: String,
    /// The note after every deletion went through.
    pub done: String,
    /// The note when Telegram could not take some deletions.
    pub partial: String,
    /// The answer to `/forget` in a group.
    pub in_group: String,
    /// The label of the button that deletes the note.
    pub button: String,
}

impl Brain {
    /// Compile the content compiled into the binary, with its model.
    pub fn embedded() -> Result<Self, Vec<Problem>> {
        Self::from_sources(&Sources::embedded())
    }

    /// Compile `dir` if given, else the content compiled into the binary.
    pub fn load(dir: Option<&Path>) -> Result<Self, Vec<Problem>> {
        match dir {
            Some(dir) => Self::from_sources(&Sources::read_dir(dir).map_err(|p| vec![p])?),
            None => Self::embedded(),
        }
    }

    /// Compile a content folder's files: the table, and the model when the folder has one
    /// (without one, the patterns answer alone; `check` asks for a model).
    pub(crate) fn from_sources(sources: &Sources) -> Result<Self, Vec<Problem>> {
        let content = Content::parse(sources)?;
        let model = read_model(sources).map_err(|p| vec![p])?;
        Self::with_model(content, model)
    }

    /// Compile parsed content without a model: the patterns answer alone.
    pub fn new(content: Content) -> Result<Self, Vec<Problem>> {
        Self::with_model(content, None)
    }

    /// Compile parsed content and a model: patterns, word rules, and every reply template.
    /// Fails with every problem that makes the content unusable (a pattern that does not
    /// compile, a reference to an unknown contact, figure, entity or topic, no fallback intent,
    /// a model that answers with an intent the table does not have).
    pub(crate) fn with_model(
        mut content: Content,
        model: Option<Model>,
    ) -> Result<Self, Vec<Problem>> {
        let mut problems = Vec::new();
        let model = model.and_then(|m| {
            map_classes(&m, &content)
                .map_err(|p| problems.push(p))
                .ok()
                .map(|classes| (m, classes))
        });
        let matcher = Scoring::build(&content)
            .map_err(|p| problems.extend(p))
            .ok();
        let lexicon = Lexicon::from_content(&content);
        let tense = Tense::build(&content.lexicon)
            .map_err(|p| problems.extend(p))
            .unwrap_or_default();
        // The lexicon holds the word list compiled; the brain keeps what it compiled, not the
        // 600 KB of `words.txt` a second time.
        content.lexicon.dictionary = String::new();
        let danger_line = render(&content.messages.danger_line, &content, "danger_line")
            .map_err(|p| problems.push(p))
            .unwrap_or_default();
        let topics: Vec<Topic> = content
            .intents
            .iter()
            .filter_map(|intent| {
                compile_topic(intent, &content, &danger_line)
                    .map_err(|p| problems.extend(p))
                    .ok()
            })
            .collect();
        let mut text = |t: &Text, name: &str| {
            render(t, &content, name)
                .map_err(|p| problems.push(p))
                .unwrap_or_default()
        };
        let media = text(&content.messages.media, "media");
        let did_you_mean = text(&content.messages.did_you_mean, "did_you_mean");
        let did_you_mean_footer =
            text(&content.messages.did_you_mean_footer, "did_you_mean_footer");
        let m = &content.messages;
        let forget = ForgetTexts {
            description: text(&m.forget_description, "forget_description"),
            done: text(&m.forget_done, "forget_done"),
            partial: text(&m.forget_partial, "forget_partial"),
            in_group: text(&m.forget_in_group, "forget_in_group"),
            button: text(&m.forget_button, "forget_button"),
        };
        let fallback = content.intents.iter().position(|i| i.id.value == FALLBACK);
        if fallback.is_none() {
            let at = content.intents.first().map(|i| i.id.at.clone());
            if let Some(at) = at {
                problems.push(Problem::new(&at, None, "there is no intent with id `fallback`; add one, it answers every message nothing else matches"));
            }
        }
        for menu_item in &content.messages.menu {
            if content.intent(&menu_item.value).is_none() {
                problems.push(Problem::new(
                    &menu_item.at,
                    Some("menu"),
                    format!("unknown intent `{}` in menu", menu_item.value),
                ));
            }
        }
        match (matcher, fallback) {
            (Some((scoring, matcher)), Some(fallback)) if problems.is_empty() => {
                let confident_score = content.lexicon.confident_score;
                let mut brain = Brain {
                    content,
                    scoring,
                    matcher,
                    lexicon,
                    tense,
                    topics,
                    fallback,
                    media,
                    did_you_mean,
                    did_you_mean_footer,
                    forget,
                    confident_score,
                    model,
                    joint: None,
                };
                brain.add_menu_buttons();
                Ok(brain)
            }
            _ => Err(problems),
        }
    }

    /// Answer with the model trained with a sentence embedding (`model-embedding.bin` in
    /// `sources`), giving it `embedder`'s embedding of every text message; `model.bin` still
    /// answers a message the embedder fails on. The error is one sentence saying what to do:
    /// the folder has no such model, it was trained on other data than `model.bin`, or with
    /// another embedding model.
    pub fn with_embedding(
        mut self,
        sources: &Sources,
        embedder: Arc<dyn Embedder>,
    ) -> Result<Self, String> {
        let retrain = "run `safeguard-bot train --embedding DIR` with this embedding model";
        let Some((name, bytes)) = &sources.embedding_model else {
            return Err(format!(
                "the responses folder has no {}; {retrain}",
                crate::embedding::MODEL_FILE
            ));
        };
        let model = Model::from_bytes(bytes).map_err(|why| format!("{name}: {why}; {retrain}"))?;
        let Some(plain) = self.model.as_ref().map(|(m, _)| m.fingerprint()) else {
            return Err("the responses folder has no model.bin, which answers when the embedding cannot; run `safeguard-bot train --embedding DIR`".into());
        };
        if plain != model.fingerprint() {
            return Err(format!(
                "{name} was trained on other data than model.bin; {retrain}"
            ));
        }
        self = self
            .use_model(model, Some(embedder))
            .map_err(|p| format!("{p}; {retrain}"))?;
        // The version names what answers: with the embedding, that model too.
        self.content.version =
            format!("{}+{:016x}", self.content.version, crate::fnv::fnv1a(bytes));
        Ok(self)
    }

    /// Answer with `model`, and with `embedder` for a model trained with a sentence embedding
    /// (that model then answers text, and the plain model only what it cannot embed): how
    /// cross-validation puts each fold's model in a brain. A model and an embedder that do
    /// not belong together are refused.
    pub(crate) fn use_model(
        mut self,
        model: Model,
        embedder: Option<Arc<dyn Embedder>>,
    ) -> Result<Self, Problem> {
        let at = Loc::file(&Arc::from(crate::embedding::MODEL_FILE));
        let classes = map_classes(&model, &self.content)?;
        match (model.dense(), embedder) {
            (None, None) => self.model = Some((model, classes)),
            (Some(dense), Some(embedder)) => {
                if dense.embedder != embedder.identity() || dense.dim != embedder.dim() {
                    return Err(Problem::new(
                        &at,
                        None,
                        "was trained with another embedding model than the one given",
                    ));
                }
                self.joint = Some(Joint {
                    model,
                    classes,
                    embedder,
                });
            }
            (Some(_), None) => {
                return Err(Problem::new(
                    &at,
                    None,
                    "a model trained with an embedding cannot answer without one",
                ));
            }
            (None, Some(_)) => {
                return Err(Problem::new(&at, None, "was trained without an embedding"));
            }
        }
        Ok(self)
    }

    /// The embedder the brain reads messages with, if any: a reload of the content keeps it.
    pub fn embedder(&self) -> Option<Arc<dyn Embedder>> {
        self.joint.as_ref().map(|j| j.embedder.clone())
    }

    /// Intents with no buttons of their own (the welcome, the fallback) offer the menu.
    fn add_menu_buttons(&mut self) {
        let menu: Vec<Button> = self
            .content
            .messages
            .menu
            .iter()
            .filter_map(|m| self.topic_button(&m.value))
            .collect();
        for (topic, intent) in self.topics.iter_mut().zip(&self.content.intents) {
            if intent.topics.is_empty()
                && (intent.id.value == FALLBACK
                    || !intent.commands.is_empty() && intent.commands.iter().any(|c| c == "start"))
            {
                topic.buttons.extend(menu.iter().cloned());
            }
        }
    }

    fn topic_button(&self, id: &str) -> Option<Button> {
        self.content.intent(id).map(|i| Button::Topic {
            label: i.title.clone(),
            intent: id.to_owned(),
        })
    }

    /// The reply to one input. Never fails: anything not understood gets the fallback.
    ///
    /// Borrowed from the brain's finished texts, so a door that writes each reply out once
    /// (`classify`) copies nothing; [`ReplyParts::into_owned`] gives the [`crate::Reply`] the other
    /// doors keep or send.
    pub fn respond(&self, input: Input<'_>) -> ReplyParts<'_> {
        match input {
            Input::Text(text) => self.respond_text(text).1,
            Input::Command(name) => {
                let name = name.to_ascii_lowercase();
                match self.topics.iter().position(|t| t.commands.contains(&name)) {
                    Some(i) => self.answer(i, &[], 1.0),
                    None => self.answer(self.fallback, &[], 0.0),
                }
            }
            Input::Topic(id) => match self.topics.iter().position(|t| t.id == id) {
                Some(i) => self.answer(i, &[], 1.0),
                None => self.answer(self.fallback, &[], 0.0),
            },
            Input::Media => ReplyParts {
                intent: MEDIA,
                text: vec![&self.media],
                buttons: Vec::new(),
                kind: Kind::Answer,
                confidence: 1.0,
                candidates: Vec::new(),
            },
        }
    }

    /// The patterns whose own regex would not compile when a message needed it, at their file
    /// and line: `check` and every reload refuse them (a scan counts such a pattern as not
    /// matched, failing closed).
    pub(crate) fn pattern_problems(&self) -> Vec<Problem> {
        Scoring::verify(&self.content, &self.matcher)
    }

    /// What the brain understood of a text message, with the reply a user would get: `eval`
    /// and cross-validation score both, and must see exactly what a Telegram message gets.
    pub fn respond_text(&self, text: &str) -> (Understanding, ReplyParts<'_>) {
        let understanding = self.understand(text);
        let reply = self.reply(&understanding);
        (understanding, reply)
    }

    /// Work out what a text message is about, without building the reply.
    pub fn understand(&self, text: &str) -> Understanding {
        let folded = fold(text);
        let rewritten = self.lexicon.rewrite(&folded);
        let mut scan = self.scoring.scan(&self.matcher, &rewritten, &self.lexicon);
        let danger_over = self.danger_over(&mut scan, &rewritten);
        // What was heard is the folded text itself when no word rule changed it: no copy.
        let heard = match rewritten {
            Cow::Owned(changed) => changed,
            Cow::Borrowed(_) => folded,
        };
        let patterns = self.pattern_opinion(&scan);
        let (model, danger) = self.model_opinion(text, &heard);
        let danger_negated = self.danger_negated(&scan);
        let (decision, decided_by) = self.decide(&patterns, danger_negated, &model, danger);
        Understanding {
            ranked: decision.ranked,
            kind: decision.kind,
            confidence: decision.confidence,
            scan,
            heard,
            patterns,
            model,
            danger,
            danger_negated,
            danger_over,
            decided_by,
        }
    }

    /// When danger patterns matched a message told as over ([`crate::tense`]), count them as
    /// negated: the patterns then leave danger to the model's higher threshold.
    fn danger_over(&self, scan: &mut Scan, heard: &str) -> bool {
        let danger: Vec<usize> = (0..self.topics.len())
            .filter(|&i| self.topics[i].danger && scan.scores[i] > 0)
            .collect();
        if danger.is_empty() || !self.tense.told_as_over(heard) {
            return false;
        }
        for i in danger {
            scan.scores[i] = 0;
            scan.negated[i] = true;
        }
        true
    }

    /// Whether the patterns found danger only with a negation before it, and no danger pattern
    /// without one.
    fn danger_negated(&self, scan: &Scan) -> bool {
        let danger = || self.topics.iter().enumerate().filter(|(_, t)| t.danger);
        danger().any(|(i, _)| scan.negated[i]) && danger().all(|(i, _)| scan.scores[i] == 0)
    }

    /// What the pattern table alone makes of a scan: danger first once it is clear (a pattern,
    /// not a hint alone), then the best score, ties broken by priority; a weak best or a tie
    /// between equals is a "did you mean".
    fn pattern_opinion(&self, scan: &Scan) -> Opinion {
        let mut ranked: Vec<usize> = (0..self.topics.len())
            .filter(|&i| scan.scores[i] > 0 && i != self.fallback)
            .collect();
        let confident = self.confident_score;
        let rank_key = |&i: &usize| {
            let t = &self.topics[i];
            (
                t.danger && scan.scores[i] >= confident,
                scan.scores[i],
                t.priority,
            )
        };
        ranked.sort_by(|a, b| rank_key(b).cmp(&rank_key(a)).then(a.cmp(b)));
        let Some(&top) = ranked.first() else {
            return Opinion {
                ranked: vec![self.fallback],
                kind: Kind::Fallback,
                confidence: 0.0,
            };
        };
        let best = scan.scores[top];
        let runner_up = ranked.get(1).map_or(0, |&i| scan.scores[i]);
        let margin = best as f32 / (best + runner_up) as f32;
        let strength = (best as f32 / (2 * self.confident_score.max(1)) as f32).min(1.0);
        let confidence = margin * (0.5 + 0.5 * strength);
        let top_topic = &self.topics[top];
        let tied = ranked.iter().skip(1).take_while(|&&i| {
            scan.scores[i] == best && self.topics[i].priority == top_topic.priority
        });
        let kind = if top_topic.danger && best >= confident {
            Kind::Answer
        } else if best < self.confident_score || tied.count() > 0 {
            ranked.truncate(MAX_CANDIDATES);
            Kind::DidYouMean
        } else {
            Kind::Answer
        };
        Opinion {
            ranked,
            kind,
            confidence,
        }
    }

    /// The model's probability for each topic, in table order (empty without a model), and
    /// its probability that danger is happening now.
    fn model_opinion(&self, text: &str, heard: &str) -> (Vec<f32>, f32) {
        let plain = self
            .model
            .as_ref()
            .map(|(model, classes)| self.opinion_of(model, classes, heard, &[]));
        let sure = plain.as_ref().is_some_and(|(by_topic, danger)| {
            let top = by_topic.iter().copied().fold(0.0, f32::max);
            top >= POLICY.embed_unless_sure && *danger < POLICY.embed_if_danger
        });
        let joint = self.joint.as_ref().filter(|_| !sure);
        if let Some((j, embedding)) = joint.and_then(|j| Some((j, j.embed(text)?))) {
            return self.opinion_of(&j.model, &j.classes, heard, &embedding);
        }
        plain.unwrap_or((Vec::new(), 0.0))
    }

    /// One model's probability for each topic, in table order, and its danger probability.
    fn opinion_of(
        &self,
        model: &Model,
        classes: &[usize],
        heard: &str,
        embedding: &[f32],
    ) -> (Vec<f32>, f32) {
        let mut probabilities = Vec::with_capacity(classes.len() + 1);
        model.probabilities_with(heard, embedding, &self.lexicon, &mut probabilities);
        let danger = model.danger(&probabilities);
        let mut by_topic = vec![0.0; self.topics.len()];
        for (&topic, &p) in classes.iter().zip(&probabilities) {
            by_topic[topic] = p;
        }
        (by_topic, danger)
    }

    /// Combine the two opinions ([`Policy`]): danger by its own recall-first rule, then the
    /// patterns when they are sure and the model does not firmly disagree, else the model.
    fn decide(
        &self,
        patterns: &Opinion,
        danger_negated: bool,
        model: &[f32],
        danger_p: f32,
    ) -> (Opinion, DecidedBy) {
        if model.len() != self.topics.len() {
            return (patterns.clone(), DecidedBy::Patterns);
        }
        // The model's topics, best first.
        let mut by_model: Vec<usize> = (0..self.topics.len()).collect();
        by_model.sort_by(|&a, &b| model[b].total_cmp(&model[a]).then(a.cmp(&b)));
        if let Some(decision) =
            self.danger_first(patterns, danger_negated, &by_model, model, danger_p)
        {
            return decision;
        }
        let (pattern_top, model_top) = (patterns.ranked[0], by_model[0]);
        // A model torn between two topics (under twice the next) does not overrule a sure
        // pattern, nor does a weak "none of these". Cross-validated on 5,546 corpus messages,
        // overruling at 0.6 rather than 0.5, and "none of these" overruling at 0.7 (it never
        // did before), took the bot from 83.2 to 83.8 % and out-of-scope messages given the
        // fallback from 73.9 to 80.3 %, with danger unchanged (EVALUATION.md).
        let runner_up = by_model.get(1).map_or(0.0, |&i| model[i]);
        let overruled = model_top != pattern_top
            && if model_top == self.fallback {
                model[model_top] >= POLICY.off_topic
            } else {
                model[model_top] >= POLICY.overrule && model[model_top] >= POLICY.margin * runner_up
            };
        if patterns.kind == Kind::Answer && !overruled {
            return (patterns.clone(), DecidedBy::Patterns);
        }
        (self.model_alone(&by_model, model), DecidedBy::Model)
    }

    /// The danger rule, recall first: 999 comes first when a danger pattern is sure, when the
    /// patterns hint at danger, when the model's danger output or its danger topic is likely
    /// enough, or when danger is the model's best topic. The thresholds rise (never to
    /// "never") when the patterns are sure of another topic or saw the danger words negated
    /// ("nobody is in danger right now"): "help no he's hurting me" has a negation too.
    fn danger_first(
        &self,
        patterns: &Opinion,
        danger_negated: bool,
        by_model: &[usize],
        model: &[f32],
        danger_p: f32,
    ) -> Option<(Opinion, DecidedBy)> {
        let pattern_top = patterns.ranked[0];
        let pattern_sure = patterns.kind == Kind::Answer;
        let pattern_danger = pattern_sure && self.topics[pattern_top].danger;
        let pattern_hint = !pattern_sure && self.topics[pattern_top].danger;
        let model_danger = by_model.iter().copied().find(|&i| self.topics[i].danger);
        let danger_topic = model_danger.map_or(0.0, |i| model[i]);
        let (threshold, _) = self.danger_threshold(patterns, danger_negated);
        let alarm = pattern_danger
            || pattern_hint
            || danger_p >= threshold
            || danger_topic >= POLICY.danger_topic
            || model_danger == Some(by_model[0]);
        if !alarm {
            return None;
        }
        let danger = if pattern_danger || pattern_hint {
            pattern_top
        } else {
            model_danger.unwrap_or(pattern_top)
        };
        // What else they asked about follows, from whichever opinion decides topics.
        let others = if pattern_sure && !pattern_danger {
            &patterns.ranked[..]
        } else {
            by_model
        };
        let mut ranked = vec![danger];
        ranked.extend(
            others
                .iter()
                .copied()
                .filter(|&i| !self.topics[i].danger && i != self.fallback)
                .take(MAX_CANDIDATES),
        );
        let (by, confidence) = if pattern_danger {
            (DecidedBy::Patterns, patterns.confidence)
        } else {
            (DecidedBy::DangerRule, danger_p.max(danger_topic))
        };
        let kind = Kind::Answer;
        Some((
            Opinion {
                ranked,
                kind,
                confidence,
            },
            by,
        ))
    }

    /// The threshold the model's danger output must reach, and why when it is raised: higher
    /// when the patterns are sure of another topic or saw the danger words negated.
    fn danger_threshold(&self, patterns: &Opinion, danger_negated: bool) -> (f32, &'static str) {
        let pattern_top = patterns.ranked[0];
        let sure_of_other = patterns.kind == Kind::Answer && !self.topics[pattern_top].danger;
        if danger_negated {
            (
                POLICY.danger_over_patterns,
                ": the patterns saw danger negated",
            )
        } else if sure_of_other {
            (
                POLICY.danger_over_patterns,
                ": the patterns are sure of another topic",
            )
        } else {
            (POLICY.danger, "")
        }
    }

    /// When the patterns are not sure (and nothing is danger): the model answers when its
    /// topic is clear, gives the fallback when "none of these" is likely, and otherwise asks,
    /// offering its likely topics. Never an empty "did you mean".
    fn model_alone(&self, by_model: &[usize], model: &[f32]) -> Opinion {
        let fallback = Opinion {
            ranked: vec![self.fallback],
            kind: Kind::Fallback,
            confidence: 0.0,
        };
        let model_top = by_model[0];
        let p = model[model_top];
        if model_top == self.fallback || model[self.fallback] >= POLICY.fallback {
            return fallback;
        }
        let runner_up = by_model.get(1).map_or(0.0, |&i| model[i]);
        let clear = p >= POLICY.answer && p >= POLICY.margin * runner_up;
        let ranked: Vec<usize> = by_model
            .iter()
            .copied()
            .filter(|&i| i != self.fallback && !self.topics[i].danger)
            .enumerate()
            .take_while(|&(n, i)| clear || n == 0 || model[i] >= POLICY.candidate)
            .map(|(_, i)| i)
            .take(MAX_CANDIDATES)
            .collect();
        if ranked.is_empty() {
            return fallback;
        }
        let kind = if clear {
            Kind::Answer
        } else {
            Kind::DidYouMean
        };
        Opinion {
            ranked,
            kind,
            confidence: p,
        }
    }

    /// Turn an understanding into the reply a person sees (borrowed, as [`Brain::respond`]).
    pub fn reply(&self, u: &Understanding) -> ReplyParts<'_> {
        match u.kind {
            Kind::Answer => {
                let mut reply = self.answer(u.ranked[0], &u.scan.entities, u.confidence);
                if self.topics[u.ranked[0]].danger {
                    // Danger answered first; what else they asked about is one tap away.
                    if let Some(&next) = u.ranked.iter().find(|&&i| !self.topics[i].danger) {
                        reply.buttons.insert(0, &self.topics[next].button);
                    }
                }
                reply
            }
            Kind::DidYouMean => ReplyParts {
                intent: &self.topics[u.ranked[0]].id,
                text: vec![&self.did_you_mean, &self.did_you_mean_footer],
                buttons: u.ranked.iter().map(|&i| &self.topics[i].button).collect(),
                kind: Kind::DidYouMean,
                confidence: u.confidence,
                candidates: u
                    .ranked
                    .iter()
                    .map(|&i| self.topics[i].id.as_str())
                    .collect(),
            },
            Kind::Fallback => {
                let mut reply = self.answer(self.fallback, &[], 0.0);
                reply.kind = Kind::Fallback;
                reply
            }
        }
    }

    /// The reply of intent `i`, led by any answers to the entities found.
    fn answer(&self, i: usize, entities: &[bool], confidence: f32) -> ReplyParts<'_> {
        let topic = &self.topics[i];
        let applying = topic.applying_indexes(entities);
        let links: Vec<&Button> = applying
            .iter()
            .flat_map(|&a| &topic.answer_links[a])
            .collect();
        let buttons = if links.is_empty() {
            topic.buttons.iter().collect()
        } else {
            let mut buttons = links;
            buttons.dedup();
            buttons.extend(&topic.buttons[topic.link_count..]);
            buttons
        };
        let text = topic.compose(
            applying
                .iter()
                .map(|&a| topic.answers[a].1.as_str())
                .collect(),
        );
        ReplyParts {
            intent: &topic.id,
            text,
            buttons,
            kind: if i == self.fallback {
                Kind::Fallback
            } else {
                Kind::Answer
            },
            confidence,
            candidates: Vec::new(),
        }
    }

    /// The text intent `id` sends to a message that names every entity at once (each answer
    /// that applies, the most specific of each kind), the longest it can send in practice.
    /// `check` holds it to Telegram's limit.
    pub(crate) fn longest_reply(&self, id: &str) -> String {
        let Some(topic) = self.topics.iter().find(|t| t.id == id) else {
            return String::new();
        };
        let everything = vec![true; self.content.entities.len()];
        topic.compose(topic.applying(&everything)).join("\n\n")
    }

    /// Every text intent `id` sends for one cause or two: its reply when nothing specific was
    /// asked (no answer indexes), the reply when the entities of one of its answers are found,
    /// and when those of two of its answers are found together (as a message naming a police
    /// force and a year does), each with the indexes of those answers. `check` holds each to
    /// one phone screen.
    pub fn replies_of(&self, id: &str) -> Vec<(Vec<usize>, String)> {
        let Some(topic) = self.topics.iter().find(|t| t.id == id) else {
            return Vec::new();
        };
        let entities = self.content.entities.len();
        let reply_when = |answers: &[usize]| {
            let mut found = vec![false; entities];
            for &a in answers {
                for &e in &topic.answers[a].0 {
                    found[e] = true;
                }
            }
            topic.compose(topic.applying(&found)).join("\n\n")
        };
        let mut out = vec![(Vec::new(), topic.reply.clone())];
        for a in 0..topic.answers.len() {
            out.push((vec![a], reply_when(&[a])));
            for b in a + 1..topic.answers.len() {
                out.push((vec![a, b], reply_when(&[a, b])));
            }
        }
        out
    }

    /// What the Telegram door says around `/forget`.
    pub fn forget_texts(&self) -> &ForgetTexts {
        &self.forget
    }

    /// The parsed content this brain was built from, without `words.txt`'s list (its
    /// [`Brain::lexicon`] holds the words; parse the content again to build another brain).
    pub fn content(&self) -> &Content {
        &self.content
    }

    /// The word rules this brain applies before matching.
    pub fn lexicon(&self) -> &Lexicon {
        &self.lexicon
    }

    /// Fingerprint of the content, for logs and metrics.
    pub fn version(&self) -> &str {
        &self.content.version
    }

    /// `(command, description)` for every command the table defines, for Telegram's menu.
    pub fn commands(&self) -> Vec<(String, String)> {
        self.content
            .intents
            .iter()
            .flat_map(|i| {
                let description = i
                    .command_description
                    .clone()
                    .unwrap_or_else(|| i.title.clone());
                i.commands
                    .iter()
                    .map(move |c| (c.clone(), description.clone()))
            })
            .collect()
    }

    /// Why a message got its reply, for operators tuning patterns: the text the patterns saw,
    /// every intent that scored, and the entities found. Never logged: it holds user text.
    pub(crate) fn explain(&self, text: &str) -> String {
        let u = self.understand(text);
        let mut scored: Vec<(usize, u32)> = u
            .scan
            .scores
            .iter()
            .enumerate()
            .filter(|(_, &s)| s > 0)
            .map(|(i, &s)| (i, s))
            .collect();
        scored.sort_by_key(|&(_, s)| std::cmp::Reverse(s));
        let scores: Vec<String> = scored
            .iter()
            .map(|&(i, s)| format!("{}={s}", self.topics[i].id))
            .collect();
        let entities: Vec<&str> = u
            .scan
            .entities
            .iter()
            .zip(&self.content.entities)
            .filter(|(&found, _)| found)
            .map(|(_, e)| e.id.value.as_str())
            .collect();
        let mut model: Vec<(usize, f32)> = u.model.iter().copied().enumerate().collect();
        model.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let model: Vec<String> = model
            .iter()
            .take(4)
            .filter(|&&(_, p)| p >= 0.01)
            .map(|&(i, p)| format!("{}={p:.2}", self.topics[i].id))
            .collect();
        let ids = |ranked: &[usize]| {
            ranked
                .iter()
                .map(|&i| self.topics[i].id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let or_none = |v: Vec<String>| {
            if v.is_empty() {
                "none".to_owned()
            } else {
                v.join(" ")
            }
        };
        let (threshold, why) = self.danger_threshold(&u.patterns, u.danger_negated);
        let why = if u.danger_over {
            ": the patterns saw danger told as over"
        } else {
            why
        };
        format!(
            "heard:    {}\npatterns: {} -> {:?} {}\nentities: {}\nmodel:    {}\ndanger:   {:.2} (999 first from {:.2}{}, or when danger is the model's best topic or {:.2} likely)\ndecision: {:?} {} (confidence {:.2}), decided by {:?}",
            u.heard,
            or_none(scores),
            u.patterns.kind,
            ids(&u.patterns.ranked),
            or_none(entities.iter().map(|e| (*e).to_owned()).collect()),
            if self.model.is_some() { or_none(model) } else { "no model".to_owned() },
            u.danger,
            threshold,
            why,
            POLICY.danger_topic,
            u.kind,
            ids(&u.ranked),
            u.confidence,
            u.decided_by,
        )
    }

    /// The intent ids of the table, in order.
    pub fn intent_ids(&self) -> impl Iterator<Item = &str> {
        self.topics.iter().map(|t| t.id.as_str())
    }
}

/// Indexes of the answers whose entities were all found, in file order, leaving out any that
/// a more specific found answer covers ("Gwent, under 18" rather than both "Gwent" and
/// "under 18").
fn specific_answers(answers: &[(Vec<usize>, String)], found: &[bool]) -> Vec<usize> {
    let hits: Vec<usize> = (0..answers.len())
        .filter(|&a| {
            let when = &answers[a].0;
            !when.is_empty() && when.iter().all(|&e| found.get(e) == Some(&true))
        })
        .collect();
    hits.iter()
        .copied()
        .filter(|&a| {
            let when = &answers[a].0;
            !hits.iter().any(|&b| {
                let other = &answers[b].0;
                other.len() > when.len() && when.iter().all(|e| other.contains(e))
            })
        })
        .collect()
}

impl Topic {
    /// The answers that apply when `found` entities are in the message: the most specific,
    /// and only the first of them for a `one_answer` intent.
    fn applying(&self, found: &[bool]) -> Vec<&str> {
        self.applying_indexes(found)
            .into_iter()
            .map(|a| self.answers[a].1.as_str())
            .collect()
    }

    /// [`Topic::applying`] as indexes into `answers`.
    fn applying_indexes(&self, found: &[bool]) -> Vec<usize> {
        let mut answers = specific_answers(&self.answers, found);
        if self.one_answer {
            answers.truncate(1);
        }
        answers
    }

    /// The pieces of a reply, given the answers that apply: the danger line first for a danger
    /// intent, the answers, the body unless an answer replaces it, the danger line last for a
    /// reporting intent.
    fn compose<'a>(&'a self, found: Vec<&'a str>) -> Vec<&'a str> {
        if found.is_empty() {
            return vec![&self.reply];
        }
        let mut text = Vec::with_capacity(found.len() + 3);
        text.extend(self.lead.as_deref());
        text.extend(found);
        if self.answers_replace {
            text.extend(self.answer_footer.as_deref());
            text.extend(self.tail.as_deref());
        } else {
            text.push(self.body());
        }
        text
    }

    /// The reply without its lead and tail (the danger line).
    fn body(&self) -> &str {
        let mut body = self.reply.as_str();
        if let Some(lead) = &self.lead {
            body = body[lead.len()..].trim_start_matches('\n');
        }
        if let Some(tail) = &self.tail {
            body = body[..body.len() - tail.len()].trim_end_matches('\n');
        }
        body
    }
}

fn compile_topic(
    intent: &Intent,
    content: &Content,
    danger_line: &str,
) -> Result<Topic, Vec<Problem>> {
    let mut problems = Vec::new();
    let subject = intent.id.value.as_str();
    let mut reply = render(&intent.reply, content, subject)
        .map_err(|p| problems.push(p))
        .unwrap_or_default();
    let (mut lead, mut tail) = (None, None);
    if intent.danger {
        reply = format!("{danger_line}\n\n{reply}");
        lead = Some(danger_line.to_owned());
    } else if intent.reporting {
        reply = format!("{reply}\n\n{danger_line}");
        tail = Some(danger_line.to_owned());
    }
    let mut buttons = link_buttons(&intent.links, content, subject, &mut problems);
    let link_count = buttons.len();
    for t in &intent.topics {
        match content.intent(&t.value) {
            Some(other) => buttons.push(Button::Topic {
                label: other.title.clone(),
                intent: t.value.clone(),
            }),
            None => problems.push(Problem::new(
                &t.at,
                Some(subject),
                format!("unknown intent `{}` in topics", t.value),
            )),
        }
    }
    let mut answers = Vec::new();
    let mut answer_links = Vec::new();
    for a in &intent.answers {
        answer_links.push(link_buttons(&a.links, content, subject, &mut problems));
        let mut when = Vec::new();
        for e in &a.when {
            match content.entities.iter().position(|x| x.id.value == e.value) {
                Some(idx) => when.push(idx),
                None => problems.push(Problem::new(
                    &e.at,
                    Some(subject),
                    format!(
                        "unknown entity `{}` in answer; add it to entities.toml or fix the id",
                        e.value
                    ),
                )),
            }
        }
        match render(&a.text, content, subject) {
            Ok(text) => answers.push((when, text)),
            Err(p) => problems.push(p),
        }
    }
    let answer_footer = intent.answer_footer.as_ref().and_then(|t| {
        render(t, content, subject)
            .map_err(|p| problems.push(p))
            .ok()
    });
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Topic {
        id: intent.id.value.clone(),
        priority: intent.priority,
        danger: intent.danger,
        commands: intent
            .commands
            .iter()
            .map(|c| c.to_ascii_lowercase())
            .collect(),
        reply,
        lead,
        tail,
        answers_replace: intent.answer_replaces_reply,
        answer_footer,
        one_answer: intent.one_answer,
        buttons,
        button: Button::Topic {
            label: content
                .intent(subject)
                .map_or_else(|| intent.title.clone(), |first| first.title.clone()),
            intent: subject.to_owned(),
        },
        answers,
        answer_links,
        link_count,
    })
}

/// The link buttons of `links` (contacts with a url); a problem for each unknown contact or
/// contact without a url.
fn link_buttons(
    links: &[Text],
    content: &Content,
    subject: &str,
    problems: &mut Vec<Problem>,
) -> Vec<Button> {
    let mut buttons = Vec::new();
    for link in links {
        match content.contact(&link.value) {
            Some(c) => match &c.url {
                Some(url) => buttons.push(Button::Link {
                    label: c.name.clone(),
                    url: url.clone(),
                }),
                None => problems.push(Problem::new(
                    &link.at,
                    Some(subject),
                    format!(
                        "contact `{}` has no url for a link button; add one to contacts.toml",
                        link.value
                    ),
                )),
            },
            None => problems.push(Problem::new(
                &link.at,
                Some(subject),
                format!("unknown contact `{}` in links", link.value),
            )),
        }
    }
    buttons
}

/// The folder's model, if it has one; a file that is not a model is a problem.
pub fn read_model(sources: &Sources) -> Result<Option<Model>, Problem> {
    let Some((name, bytes)) = &sources.model else {
        log::warn!(
            "the responses folder has no model.bin: answering with the patterns alone, without the learned model's danger rule; run `safeguard-bot train`"
        );
        return Ok(None);
    };
    let model = Model::from_bytes(bytes).map_err(|why| {
        Problem::new(
            &Loc::file(name),
            None,
            format!("cannot read the model: {why}; run `safeguard-bot train`"),
        )
    })?;
    if model.dense().is_some() {
        return Err(Problem::new(
            &Loc::file(name),
            None,
            "this model was trained with an embedding and belongs in model-embedding.bin; run `safeguard-bot train`",
        ));
    }
    Ok(Some(model))
}

impl Joint {
    /// The embedding of a message as written, or `None` when there is no text to embed or the
    /// embedder failed (logged without the message): the plain model answers then, not this
    /// one with numbers it was never trained on.
    fn embed(&self, text: &str) -> Option<Vec<f32>> {
        if text.trim().is_empty() {
            return None;
        }
        match self.embedder.embed(text) {
            Ok(e) if e.len() == self.embedder.dim() => Some(e),
            Ok(_) => {
                log::error!(
                    "the embedding model gave a vector of the wrong length; answering without it"
                );
                None
            }
            Err(e) => {
                log::error!("{e}; answering without it");
                None
            }
        }
    }
}

/// The topic of each of the model's classes; a class the table does not have is a problem
/// (the model was trained on another table).
fn map_classes(model: &Model, content: &Content) -> Result<Vec<usize>, Problem> {
    model
        .classes()
        .iter()
        .map(|class| {
            content
                .intents
                .iter()
                .position(|i| i.id.value == *class)
                .ok_or_else(|| {
                    let at = content
                        .intents
                        .first()
                        .map_or_else(|| Loc::file(&"responses/model.bin".into()), |i| i.id.at.clone());
                    Problem::new(
                        &at,
                        None,
                        format!("the model answers `{class}`, which is not in the table; run `safeguard-bot train`"),
                    )
                })
        })
        .collect()
}

//! `safeguard-bot train`: learn the model from a content folder's labelled messages, and
//! measure it by cross-validation.
//!
//! Training reads the intents' examples and `corpus.tsv` ([`crate::corpus`]), hears each
//! message as the brain does (folding and word rules), and fits [`crate::model`]. The model is
//! stamped with the fingerprint of that data, so `check` knows when it must be trained again.
//!
//! Cross-validation (`--folds K`) is how the settings and the brain's [`crate::brain::Policy`]
//! are chosen: the corpus is cut into K parts; each part is answered by a brain whose model
//! never saw it (the intents' examples always train, since the patterns were written from
//! them). It measures the corpus, which is training data: a blind set is the real test.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use crate::brain::Brain;
use crate::content::{Content, Sources};
use crate::corpus::{self, Labelled};
use crate::embedding::Embedder;
use crate::eval::{alarms, Danger};
use crate::lexicon::Lexicon;
use crate::model::train::{train_with, Settings};
use crate::model::Model;
use crate::normalize::fold;
use crate::problem::Problem;

/// The parsed content folder and its labelled messages, ready to train on.
pub(crate) struct Data {
    sources: Sources,
    content: Content,
    corpus: Vec<Labelled>,
    /// With `--embedding`: the embedder, and every training message's embedding, computed
    /// once (about 15 ms each) and shared by every fold.
    embeddings: Option<Embeddings>,
}

/// An embedder and every training message's embedding by text.
type Embeddings = (Arc<dyn Embedder>, HashMap<String, Vec<f32>>);

impl Data {
    /// Parse a folder's content and corpus; every problem with either is returned.
    pub fn read(sources: Sources) -> Result<Self, Vec<Problem>> {
        let content = Content::parse(&sources)?;
        let corpus = corpus::read(&sources, &content)?;
        Ok(Data {
            sources,
            content,
            corpus,
            embeddings: None,
        })
    }

    /// Train and cross-validate with `embedder`'s sentence embeddings beside the hashed
    /// features. Embeds every labelled message now; the error is the embedder's.
    pub fn with_embedder(mut self, embedder: Arc<dyn Embedder>) -> Result<Self, String> {
        let mut cache = HashMap::new();
        for m in corpus::training_set(&self.content, &self.corpus) {
            if let std::collections::hash_map::Entry::Vacant(slot) = cache.entry(m.text) {
                let e = embedder.embed(slot.key())?;
                slot.insert(e);
            }
        }
        self.embeddings = Some((embedder, cache));
        Ok(self)
    }

    /// How many labelled messages there are to learn from, examples included.
    pub fn len(&self) -> usize {
        self.content
            .intents
            .iter()
            .map(|i| i.examples.len())
            .sum::<usize>()
            + self.corpus.len()
    }

    /// Train on every labelled message: the model `train` writes, stamped with the
    /// fingerprint of that data.
    pub fn train(&self) -> Model {
        let training = corpus::training_set(&self.content, &self.corpus);
        let settings = Settings::SHIPPED;
        let fingerprint = corpus::fingerprint(&self.sources, &self.content, &training, &settings);
        self.fit(&training, &settings, fingerprint)
    }

    /// [`Data::train`] without the embedding, when there is one: `model.bin` beside
    /// `model-embedding.bin`.
    pub fn train_plain(&self) -> Model {
        let training = corpus::training_set(&self.content, &self.corpus);
        let settings = Settings::SHIPPED;
        let fingerprint = corpus::fingerprint(&self.sources, &self.content, &training, &settings);
        self.fit_with(&training, &settings, fingerprint, None)
    }

    fn fit(&self, training: &[Labelled], settings: &Settings, fingerprint: u64) -> Model {
        self.fit_with(training, settings, fingerprint, self.embeddings.as_ref())
    }

    fn fit_with(
        &self,
        training: &[Labelled],
        settings: &Settings,
        fingerprint: u64,
        embeddings: Option<&Embeddings>,
    ) -> Model {
        let lexicon = Lexicon::from_content(&self.content);
        let classes: Vec<String> = self
            .content
            .intents
            .iter()
            .map(|i| i.id.value.clone())
            .collect();
        let hear = |text: &str| lexicon.rewrite(&fold(text)).into_owned();
        let danger: Vec<String> = self
            .content
            .intents
            .iter()
            .filter(|i| i.danger)
            .map(|i| i.id.value.clone())
            .collect();
        let embed = |text: &str| match embeddings {
            Some((_, cache)) => cache.get(text).cloned().unwrap_or_default(),
            None => Vec::new(),
        };
        let samples = corpus::samples(
            training,
            &classes,
            &danger,
            settings.table_weight,
            hear,
            embed,
        );
        let embedder = embeddings.map(|(e, _)| e.identity());
        train_with(&samples, &lexicon, classes, settings, fingerprint, embedder)
    }

    /// Cross-validate over `folds` parts of the corpus. Returns the report and one JSON line
    /// per held-out message (what each opinion said), for choosing the policy.
    pub(crate) fn cross_validate(
        &self,
        folds: usize,
    ) -> Result<(CrossValidation, String), Vec<Problem>> {
        let folds = folds.max(2);
        let settings = Settings::for_trials();
        let mut cv = CrossValidation::default();
        let mut lines = String::new();
        let examples = corpus::training_set(&self.content, &[]);
        for fold in 0..folds {
            let in_fold = |i: usize| i % folds == fold;
            let held = self.corpus.iter().enumerate().filter(|&(i, _)| in_fold(i));
            let kept = self.corpus.iter().enumerate().filter(|&(i, _)| !in_fold(i));
            let training: Vec<Labelled> = examples
                .iter()
                .cloned()
                .chain(kept.map(|(_, m)| m.clone()))
                .collect();
            // The plain model always, and with an embedding the joint one beside it: the brain
            // uses them as a served one does (the plain model when it is sure).
            let plain = self.fit_with(&training, &settings, 0, None);
            let mut brain = Brain::with_model(self.content.clone(), Some(plain))?;
            if let Some((embedder, _)) = &self.embeddings {
                let joint = self.fit(&training, &settings, 0);
                brain = brain
                    .use_model(joint, Some(embedder.clone()))
                    .map_err(|p| vec![p])?;
            }
            for (_, m) in held {
                let record = cv.add(&brain, m);
                let _ = writeln!(lines, "{record}");
            }
        }
        Ok((cv, lines))
    }
}

/// Cross-validated figures: how often each opinion was right on messages its model never saw.
#[derive(Debug, Default, Clone)]
pub(crate) struct CrossValidation {
    /// Held-out messages answered.
    pub total: usize,
    /// The bot's answer was acceptable.
    pub right: usize,
    /// The patterns alone were acceptable.
    pub patterns_right: usize,
    /// The model's top intent alone was acceptable.
    pub model_right: usize,
    /// Messages whose best label is `emergency`: danger now.
    pub danger: usize,
    /// Of those, answered as danger.
    pub danger_caught: usize,
    /// Messages with no `emergency` label at all.
    pub calm: usize,
    /// Of those, answered as danger.
    pub false_alarms: usize,
    /// Messages labelled fallback only.
    pub out_of_scope: usize,
    /// Of those, given the fallback.
    pub out_of_scope_fallback: usize,
}

impl CrossValidation {
    fn add(&mut self, brain: &Brain, m: &Labelled) -> String {
        let (u, reply) = brain.respond_text(&m.text);
        let reply = reply.into_owned();
        let ids: Vec<&str> = brain.intent_ids().collect();
        let ok = |id: &str| m.labels.iter().any(|l| l == id);
        let danger = Danger::of(&m.labels);
        let alarmed = alarms(&reply.intent, reply.kind);
        self.total += 1;
        self.right += usize::from(ok(&reply.intent));
        let pattern_intent = ids[u.patterns.ranked[0]];
        self.patterns_right += usize::from(ok(pattern_intent));
        let model_top = (0..u.model.len())
            .max_by(|&a, &b| u.model[a].total_cmp(&u.model[b]).then(b.cmp(&a)))
            .map_or("fallback", |i| ids[i]);
        self.model_right += usize::from(ok(model_top));
        match danger {
            Danger::Now => {
                self.danger += 1;
                self.danger_caught += usize::from(alarmed);
            }
            Danger::None => {
                self.calm += 1;
                self.false_alarms += usize::from(alarmed);
            }
            Danger::Either => {}
        }
        if m.labels == ["fallback"] {
            self.out_of_scope += 1;
            self.out_of_scope_fallback += usize::from(reply.intent == "fallback");
        }
        prediction(brain, &u, &reply, &m.labels, m.at.line).to_string()
    }

    /// The report as an operator reads it.
    pub fn to_text(&self) -> String {
        let pct = |a: usize, b: usize| {
            if b == 0 {
                "n/a".to_owned()
            } else {
                format!("{:.1}% ({a} of {b})", 100.0 * a as f64 / b as f64)
            }
        };
        format!(
            "held-out messages   {}\nbot                 {}\npatterns alone      {}\nmodel alone         {}\ndanger caught       {}\nfalse alarms        {}\nout of scope        {} given the fallback\n",
            self.total,
            pct(self.right, self.total),
            pct(self.patterns_right, self.total),
            pct(self.model_right, self.total),
            pct(self.danger_caught, self.danger),
            pct(self.false_alarms, self.calm),
            pct(self.out_of_scope_fallback, self.out_of_scope),
        )
    }
}

/// One message's two opinions and the decision, as JSON: what `train --predictions` and
/// `eval --predictions` write a line of, so that a policy change can be tried on held-out
/// messages offline before it is built in.
pub(crate) fn prediction(
    brain: &Brain,
    u: &crate::brain::Understanding,
    reply: &crate::reply::Reply,
    labels: &[String],
    line: usize,
) -> serde_json::Value {
    let ids: Vec<&str> = brain.intent_ids().collect();
    serde_json::json!({
        "line": line,
        "labels": labels,
        "got": reply.intent,
        "kind": format!("{:?}", reply.kind),
        "decided_by": format!("{:?}", u.decided_by),
        "patterns": u.patterns.ranked.iter().map(|&i| ids[i]).collect::<Vec<_>>(),
        "patterns_kind": format!("{:?}", u.patterns.kind),
        "model": u.model,
        "danger": u.danger,
        "danger_negated": u.danger_negated,
    })
}

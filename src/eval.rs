//! Scores the brain on a file of labelled messages, the way NLU teams measure intent models.
//!
//! The file format is DESIGN.md's: tab-separated `text`, acceptable intents separated by `|`,
//! then needles the reply must contain separated by `;` (case-insensitive, spaces and commas
//! ignored). Lines starting with `#` and blank lines are skipped.
//!
//! A message passes when its intent is acceptable and its reply holds every needle. A "did you
//! mean" counts with its best candidate as the intent, as `ask --json` reports it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::brain::{Brain, Understanding};
use crate::reply::Kind;
use crate::Reply;

/// One labelled message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// 1-based line in the file.
    pub line: usize,
    /// The message.
    pub text: String,
    /// Intents that are a right answer.
    pub acceptable: Vec<String>,
    /// Strings the reply must contain.
    pub needles: Vec<String>,
}

/// Read an evaluation file; a line without the intents column is an error naming the line.
pub fn parse(tsv: &str) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    for (i, raw) in tsv.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut cols = line.split('\t');
        let text = cols.next().unwrap_or_default().to_owned();
        let intents = cols.next().map(str::trim).unwrap_or_default();
        if intents.is_empty() {
            return Err(format!(
                "line {}: expected text, a tab, then the acceptable intents separated by |",
                i + 1
            ));
        }
        let split = |s: &str, sep: char| -> Vec<String> {
            s.split(sep)
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect()
        };
        cases.push(Case {
            line: i + 1,
            text,
            acceptable: split(intents, '|'),
            needles: split(cols.next().unwrap_or_default(), ';'),
        });
    }
    Ok(cases)
}

/// What happened to one case.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// 1-based line in the file.
    pub line: usize,
    /// The message.
    pub text: String,
    /// Acceptable intents.
    pub expected: Vec<String>,
    /// The intent answered.
    pub got: String,
    /// Answer, did-you-mean or fallback.
    pub kind: Kind,
    /// Whether the intent was acceptable.
    pub intent_ok: bool,
    /// Needles the reply lacked.
    pub missing: Vec<String>,
}

impl Outcome {
    /// Right intent and every needle.
    pub fn passed(&self) -> bool {
        self.intent_ok && self.missing.is_empty()
    }
}

/// Precision, recall and F1 for one intent.
#[derive(Debug, Clone, Serialize)]
pub struct IntentScore {
    /// The intent.
    pub intent: String,
    /// Cases labelled with it.
    pub support: usize,
    /// Of the answers it got, how many were right.
    pub precision: f64,
    /// Of its cases, how many got it.
    pub recall: f64,
    /// Harmonic mean of the two.
    pub f1: f64,
}

/// The whole evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Cases scored.
    pub total: usize,
    /// Share with an acceptable intent and every needle.
    pub accuracy: f64,
    /// Share with an acceptable intent.
    pub intent_accuracy: f64,
    /// Share whose reply holds every needle.
    pub needle_share: f64,
    /// Share of danger-now cases (best label `emergency`) answered as an emergency.
    pub emergency_recall: Option<f64>,
    /// Share of the cases with no `emergency` label answered as an emergency anyway (the 999
    /// line first, then their topic): the cost of a recall-first danger rule.
    pub false_alarms: Option<f64>,
    /// Share of the cases whose only acceptable intent is `fallback` (about something else)
    /// that got the fallback.
    pub out_of_scope_fallback: Option<f64>,
    /// Per intent, in id order.
    pub per_intent: Vec<IntentScore>,
    /// `(expected, got, count)`, most frequent first.
    pub confusions: Vec<(String, String, usize)>,
    /// Every case that did not pass.
    pub failures: Vec<Outcome>,
    /// Danger-now cases not answered with 999 first, even where their topic was acceptable:
    /// the misses the danger bar counts, listed so an operator can teach the bot each one.
    pub danger_missed: Vec<Outcome>,
}

/// Strip spaces and commas and lower-case, so "0808 800 5000" and "08088005000" agree.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != ',')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Run every case through the brain, as a Telegram message would go.
pub fn run(brain: &Brain, cases: &[Case]) -> Report {
    run_each(brain, cases, |_, _, _| {})
}

/// [`run`], also handing each case, what the brain understood of it and its reply to `seen`:
/// `eval --predictions` writes its lines from these, so no message is understood twice.
pub fn run_each(
    brain: &Brain,
    cases: &[Case],
    mut seen: impl FnMut(&Case, &Understanding, &Reply),
) -> Report {
    let outcomes: Vec<Outcome> = cases
        .iter()
        .map(|case| {
            let (understanding, reply) = brain.respond_text(&case.text);
            let reply = reply.into_owned();
            seen(case, &understanding, &reply);
            let haystack = squash(&reply.reply);
            Outcome {
                line: case.line,
                text: case.text.clone(),
                expected: case.acceptable.clone(),
                intent_ok: case.acceptable.contains(&reply.intent),
                missing: case
                    .needles
                    .iter()
                    .filter(|n| !haystack.contains(&squash(n)))
                    .cloned()
                    .collect(),
                got: reply.intent,
                kind: reply.kind,
            }
        })
        .collect();
    summarise(outcomes)
}

/// What a message's labels say about danger, for the danger bars: the "danger now" is
/// a message whose best label is `emergency`; one where `emergency` is only an acceptable
/// reading ("101 or 999?") is neither missed when the bot stays calm nor a false alarm when it
/// does not, so it counts on neither side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Danger {
    /// `emergency` is the best label: 999 must come first.
    Now,
    /// `emergency` is an acceptable reading, not the best one.
    Either,
    /// No label is `emergency`: 999 first is a false alarm.
    None,
}

impl Danger {
    /// Read the labels, best first.
    pub(crate) fn of(labels: &[String]) -> Danger {
        match labels.iter().position(|l| l == "emergency") {
            Some(0) => Danger::Now,
            Some(_) => Danger::Either,
            None => Danger::None,
        }
    }
}

/// Whether a reply put 999 first: an emergency answer, not a "did you mean".
pub(crate) fn alarms(intent: &str, kind: Kind) -> bool {
    intent == "emergency" && kind == Kind::Answer
}

/// Whether an outcome's reply put 999 first.
fn alarmed(o: &Outcome) -> bool {
    alarms(&o.got, o.kind)
}

fn summarise(outcomes: Vec<Outcome>) -> Report {
    let total = outcomes.len();
    let share = |n: usize| {
        if total == 0 {
            0.0
        } else {
            n as f64 / total as f64
        }
    };
    let gold = |o: &Outcome| {
        if o.intent_ok {
            o.got.clone()
        } else {
            o.expected[0].clone()
        }
    };
    let mut tp: BTreeMap<String, usize> = BTreeMap::new();
    let mut predicted: BTreeMap<String, usize> = BTreeMap::new();
    let mut support: BTreeMap<String, usize> = BTreeMap::new();
    let mut confusions: BTreeMap<(String, String), usize> = BTreeMap::new();
    for o in &outcomes {
        let g = gold(o);
        *support.entry(g.clone()).or_default() += 1;
        *predicted.entry(o.got.clone()).or_default() += 1;
        if o.intent_ok {
            *tp.entry(g).or_default() += 1;
        } else {
            *confusions.entry((g, o.got.clone())).or_default() += 1;
        }
    }
    let per_intent = support
        .iter()
        .map(|(intent, &n)| {
            let hits = tp.get(intent).copied().unwrap_or(0);
            let precision = match predicted.get(intent) {
                Some(&p) if p > 0 => hits as f64 / p as f64,
                _ => 0.0,
            };
            let recall = hits as f64 / n as f64;
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            IntentScore {
                intent: intent.clone(),
                support: n,
                precision,
                recall,
                f1,
            }
        })
        .collect();
    let mut confusions: Vec<(String, String, usize)> = confusions
        .into_iter()
        .map(|((a, b), n)| (a, b, n))
        .collect();
    confusions.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.cmp(b)));
    let emergencies: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| Danger::of(&o.expected) == Danger::Now)
        .collect();
    let emergency_recall = (!emergencies.is_empty()).then(|| {
        emergencies.iter().filter(|o| alarmed(o)).count() as f64 / emergencies.len() as f64
    });
    let others: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| Danger::of(&o.expected) == Danger::None)
        .collect();
    let false_alarms = (!others.is_empty())
        .then(|| others.iter().filter(|o| alarmed(o)).count() as f64 / others.len() as f64);
    let out_of_scope: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.expected == ["fallback"])
        .collect();
    let out_of_scope_fallback = (!out_of_scope.is_empty()).then(|| {
        out_of_scope.iter().filter(|o| o.got == "fallback").count() as f64
            / out_of_scope.len() as f64
    });
    let danger_missed = emergencies
        .iter()
        .filter(|o| !alarmed(o))
        .map(|o| (*o).clone())
        .collect();
    Report {
        total,
        danger_missed,
        false_alarms,
        out_of_scope_fallback,
        accuracy: share(outcomes.iter().filter(|o| o.passed()).count()),
        intent_accuracy: share(outcomes.iter().filter(|o| o.intent_ok).count()),
        needle_share: share(outcomes.iter().filter(|o| o.missing.is_empty()).count()),
        emergency_recall,
        per_intent,
        confusions,
        failures: outcomes.into_iter().filter(|o| !o.passed()).collect(),
    }
}

impl Report {
    /// The report as an operator reads it in a terminal.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let pct = |x: f64| format!("{:.1}%", x * 100.0);
        let _ = writeln!(s, "messages            {}", self.total);
        let _ = writeln!(
            s,
            "accuracy            {}  (acceptable intent and every needle)",
            pct(self.accuracy)
        );
        let _ = writeln!(s, "intent accuracy     {}", pct(self.intent_accuracy));
        let _ = writeln!(s, "needles present     {}", pct(self.needle_share));
        match self.emergency_recall {
            Some(r) => {
                let _ = writeln!(
                    s,
                    "emergency recall    {}  (danger now, best label emergency: 999 first)",
                    pct(r)
                );
            }
            None => {
                let _ = writeln!(s, "emergency recall    n/a (no emergency cases)");
            }
        }
        if let Some(f) = self.false_alarms {
            let _ = writeln!(
                s,
                "false alarms        {}  (no emergency label, answered 999 first)",
                pct(f)
            );
        }
        if let Some(f) = self.out_of_scope_fallback {
            let _ = writeln!(
                s,
                "out of scope        {}  (about something else: got the fallback)",
                pct(f)
            );
        }
        let _ = writeln!(
            s,
            "\n{:<18} {:>7} {:>9} {:>7} {:>7}",
            "intent", "support", "precision", "recall", "f1"
        );
        for i in &self.per_intent {
            let _ = writeln!(
                s,
                "{:<18} {:>7} {:>9.2} {:>7.2} {:>7.2}",
                i.intent, i.support, i.precision, i.recall, i.f1
            );
        }
        if !self.confusions.is_empty() {
            let _ = writeln!(s, "\nmost confused (expected -> got)");
            for (a, b, n) in self.confusions.iter().take(10) {
                let _ = writeln!(s, "  {a} -> {b}: {n}");
            }
        }
        if !self.failures.is_empty() {
            let _ = writeln!(s, "\nfailures");
            for f in &self.failures {
                let mut why = Vec::new();
                if !f.intent_ok {
                    why.push(format!(
                        "got {} ({:?}), expected {}",
                        f.got,
                        f.kind,
                        f.expected.join("|")
                    ));
                }
                if !f.missing.is_empty() {
                    why.push(format!("reply lacks {}", f.missing.join(", ")));
                }
                let _ = writeln!(s, "  line {}: {:?}: {}", f.line, f.text, why.join("; "));
            }
        }
        if !self.danger_missed.is_empty() {
            let _ = writeln!(s, "\ndanger now, not answered 999 first");
            for f in &self.danger_missed {
                let _ = writeln!(
                    s,
                    "  line {}: {:?}: got {} ({:?})",
                    f.line, f.text, f.got, f.kind
                );
            }
        }
        s
    }
}

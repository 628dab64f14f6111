//! The intent table in `responses/`, walked row by row through `Brain::respond`, the code path
//! every door (Telegram included) uses. Replies are checked for what a person must get, with
//! numbers taken from the contacts table, never for wording an operator may edit.

mod support;

use safeguard_bot::brain::FALLBACK;
use safeguard_bot::check::INTENT_IDS;
use safeguard_bot::{Button, Input, Kind};
use support::{brain, content, danger_line, phone, web};

/// Every failure at once, so one run shows the operator the whole list.
fn assert_none(failures: Vec<String>, what: &str) {
    assert!(
        failures.is_empty(),
        "{} {what}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_example_routes_to_its_intent() {
    let mut failures = Vec::new();
    for intent in &content().intents {
        let id = intent.id.value.as_str();
        for example in &intent.examples {
            let reply = brain().respond(Input::Text(&example.value)).into_owned();
            let answered = reply.kind == Kind::Answer || id == FALLBACK;
            if reply.intent != id || !answered {
                failures.push(format!(
                    "{}: {id}: {:?} got {} ({:?})",
                    example.at, example.value, reply.intent, reply.kind
                ));
            }
        }
    }
    assert_none(failures, "examples do not route to their intent");
}

#[test]
fn no_counter_example_routes_to_its_intent() {
    let mut failures = Vec::new();
    for intent in &content().intents {
        let id = intent.id.value.as_str();
        for counter in &intent.counter_examples {
            let reply = brain().respond(Input::Text(&counter.value)).into_owned();
            if reply.intent == id && reply.kind == Kind::Answer {
                failures.push(format!("{}: {id}: {:?}", counter.at, counter.value));
            }
        }
    }
    assert_none(
        failures,
        "counter-examples route to the intent they must not",
    );
}

#[test]
fn every_design_intent_is_in_the_table() {
    let ids: Vec<&str> = brain().intent_ids().collect();
    for id in INTENT_IDS {
        assert!(ids.contains(&id), "intent `{id}` of DESIGN.md is missing");
    }
}

/// Emergency examples that the table answers as an emergency on their own.
fn danger_messages() -> Vec<&'static str> {
    let emergency = content()
        .intents
        .iter()
        .find(|i| i.danger)
        .expect("the table has a danger intent");
    let found: Vec<&str> = emergency
        .examples
        .iter()
        .map(|e| e.value.as_str())
        .filter(|e| brain().respond(Input::Text(e)).into_owned().intent == emergency.id.value)
        .collect();
    assert!(
        found.len() >= 3,
        "fewer than 3 emergency examples are answered as an emergency: {found:?}"
    );
    found
}

#[test]
fn danger_outranks_any_other_topic_in_the_same_message() {
    let mut failures = Vec::new();
    let others: Vec<(&str, &str)> = content()
        .intents
        .iter()
        .filter(|i| !i.danger && i.id.value != FALLBACK)
        .filter_map(|i| {
            i.examples
                .first()
                .map(|e| (i.id.value.as_str(), e.value.as_str()))
        })
        .collect();
    for danger in danger_messages() {
        for (other, example) in &others {
            for message in [
                format!("{danger} and {example}"),
                format!("{example}. {danger}"),
            ] {
                let reply = brain().respond(Input::Text(&message)).into_owned();
                if reply.intent != "emergency" || !reply.reply.starts_with(&danger_line()) {
                    failures.push(format!(
                        "{message:?} (also {other}) got {} starting {:?}",
                        reply.intent,
                        reply.reply.lines().next().unwrap_or_default()
                    ));
                }
            }
        }
    }
    assert_none(failures, "danger messages lost to another topic");
}

#[test]
fn emergency_reply_starts_with_999_and_offers_the_other_topic() {
    let danger = danger_messages()[0];
    let example = &content()
        .intent("sexting_law")
        .expect("sexting_law")
        .examples[0]
        .value;
    let alone = brain().respond(Input::Text(example)).into_owned();
    let reply = brain()
        .respond(Input::Text(&format!("{danger} and {example}")))
        .into_owned();
    let first_line = reply.reply.lines().next().unwrap_or_default();
    assert!(
        first_line.contains(&phone("police_999")),
        "first line: {first_line:?}"
    );
    assert_eq!(reply.kind, Kind::Answer);
    if alone.intent != "emergency" {
        // What else they asked about is one tap away.
        assert!(
            reply
                .buttons
                .iter()
                .any(|b| matches!(b, Button::Topic { intent, .. } if *intent == alone.intent)),
            "no button for {} under {:?}",
            alone.intent,
            reply.buttons
        );
    }
}

#[test]
fn a_negated_danger_is_not_an_emergency() {
    let reply = brain()
        .respond(Input::Text("i'm not in danger"))
        .into_owned();
    assert_ne!(reply.intent, "emergency");
}

#[test]
fn every_reporting_reply_ends_with_the_999_line() {
    let line = danger_line();
    assert!(line.contains(&phone("police_999")), "danger line: {line}");
    let reporting: Vec<&str> = content()
        .intents
        .iter()
        .filter(|i| i.reporting)
        .map(|i| i.id.value.as_str())
        .collect();
    assert!(!reporting.is_empty(), "no intent is marked reporting");
    let mut failures = Vec::new();
    for id in &reporting {
        let intent = content().intent(id).expect("listed intent");
        let replies = std::iter::once(brain().respond(Input::Topic(id)).into_owned()).chain(
            intent
                .examples
                .iter()
                .map(|e| brain().respond(Input::Text(&e.value)).into_owned())
                .filter(|r| r.intent == *id && r.kind == Kind::Answer),
        );
        for reply in replies {
            if !reply.reply.trim_end().ends_with(&line) {
                failures.push(format!(
                    "{id}: ends {:?}",
                    reply.reply.lines().last().unwrap_or_default()
                ));
            }
        }
    }
    assert_none(failures, "reporting replies do not end with the 999 line");
}

#[test]
fn fallback_reply_lists_helplines() {
    for message in ["qwertyuiop zxcvbnm", "", "   ", "🙂", "ok so"] {
        let reply = brain().respond(Input::Text(message)).into_owned();
        if reply.kind != Kind::Fallback {
            continue;
        }
        assert_eq!(reply.intent, FALLBACK);
        for helpline in ["childline", "nspcc"] {
            assert!(
                reply.reply.contains(&phone(helpline)),
                "fallback to {message:?} lacks {helpline}"
            );
        }
        assert!(
            reply
                .buttons
                .iter()
                .any(|b| matches!(b, Button::Topic { .. })),
            "fallback offers no topics"
        );
    }
    let reply = brain()
        .respond(Input::Text("qwertyuiop zxcvbnm"))
        .into_owned();
    assert_eq!(reply.kind, Kind::Fallback, "nonsense must get the fallback");
}

#[test]
fn did_you_mean_reply_lists_helplines_and_the_candidates() {
    let ids: Vec<&str> = brain().intent_ids().collect();
    let position = |id: &str| ids.iter().position(|&x| x == id).expect("known id");
    // An understanding as the brain makes it, turned into a "did you mean" for two topics.
    let mut understanding = brain().understand("is sexting illegal");
    understanding.ranked = vec![position("sexting_law"), position("sexting_risks")];
    understanding.kind = Kind::DidYouMean;
    understanding.confidence = 0.5;
    let reply = brain().reply(&understanding).into_owned();
    assert_eq!(reply.kind, Kind::DidYouMean);
    assert_eq!(
        reply.intent, "sexting_law",
        "the best candidate is the intent"
    );
    assert_eq!(reply.candidates, ["sexting_law", "sexting_risks"]);
    assert_eq!(reply.buttons.len(), 2);
    for helpline in ["childline", "nspcc"] {
        assert!(reply.reply.contains(&phone(helpline)), "lacks {helpline}");
    }
}

#[test]
fn every_did_you_mean_met_on_real_messages_lists_helplines() {
    let mut seen = 0;
    for message in support::table_messages()
        .iter()
        .chain(&support::dev_messages())
    {
        let reply = brain().respond(Input::Text(message)).into_owned();
        if reply.kind == Kind::DidYouMean {
            seen += 1;
            assert!(
                reply.reply.contains(&phone("childline")) && reply.reply.contains(&phone("nspcc")),
                "{message:?}: {}",
                reply.reply
            );
            assert!(!reply.candidates.is_empty() && reply.candidates.len() <= 3);
            assert_eq!(reply.intent, reply.candidates[0]);
        }
    }
    eprintln!("{seen} did-you-mean replies checked");
}

#[test]
fn media_reply_says_how_to_report_or_remove_an_image() {
    let reply = brain().respond(Input::Media).into_owned();
    assert!(reply.reply.contains(&web("iwf")), "{}", reply.reply);
    assert!(
        reply.reply.contains(&web("report_remove")),
        "{}",
        reply.reply
    );
}

#[test]
fn start_and_help_offer_the_topics() {
    for command in ["start", "help", "START"] {
        let reply = brain().respond(Input::Command(command)).into_owned();
        assert_eq!(reply.intent, "help", "/{command}");
        let topics = reply
            .buttons
            .iter()
            .filter(|b| matches!(b, Button::Topic { .. }))
            .count();
        assert!(topics >= 4, "/{command} offers {topics} topics");
    }
}

#[test]
fn a_bare_help_gets_the_999_line_before_the_menu() {
    // Someone who can only type "HELP" may be in danger: the menu they get starts with 999.
    let inputs = [
        Input::Text("HELP"),
        Input::Text("help"),
        Input::Text("menu"),
        Input::Command("start"),
    ];
    for input in inputs {
        let reply = brain().respond(input).into_owned();
        assert!(
            reply.reply.starts_with(&danger_line()),
            "{input:?}: {:?}",
            reply.reply
        );
    }
}

#[test]
fn an_unknown_command_or_topic_gets_the_fallback() {
    assert_eq!(
        brain()
            .respond(Input::Command("nosuch"))
            .into_owned()
            .intent,
        FALLBACK
    );
    assert_eq!(
        brain().respond(Input::Topic("nosuch")).into_owned().intent,
        FALLBACK
    );
}

#[test]
fn every_topic_button_opens_a_topic_that_exists() {
    let ids: Vec<&str> = brain().intent_ids().collect();
    for id in &ids {
        for button in brain().respond(Input::Topic(id)).into_owned().buttons {
            match button {
                Button::Topic { intent, .. } => {
                    assert!(ids.contains(&intent.as_str()), "{id} -> {intent}")
                }
                Button::Link { url, .. } => assert!(url.starts_with("https://"), "{url}"),
            }
        }
    }
}

#[test]
fn contacts_answer_gives_the_organisation_named() {
    let named = [
        ("childline", "childline"),
        ("nspcc", "nspcc"),
        ("crimestoppers", "crimestoppers"),
        ("stop it now", "stop_it_now"),
        ("iwf", "iwf"),
        ("ceop", "ceop"),
    ];
    let contacts = content().intent("contacts").expect("contacts intent");
    let mut checked = 0;
    for example in &contacts.examples {
        let reply = brain().respond(Input::Text(&example.value)).into_owned();
        if reply.intent != "contacts" {
            continue; // every_example_routes_to_its_intent reports it
        }
        let text = example.value.to_lowercase();
        for (name, id) in named {
            if !text.contains(name) {
                continue;
            }
            let contact = content().contact(id).expect("named contact exists");
            let ways = [&contact.phone, &contact.web];
            assert!(
                ways.iter()
                    .any(|w| w.as_deref().is_some_and(|w| reply.reply.contains(w))),
                "{:?} does not give {}: {}",
                example.value,
                contact.name,
                reply.reply
            );
            checked += 1;
        }
    }
    assert!(checked >= 3, "only {checked} named organisations checked");
}

/// Runs of digits and spaces, spaces removed: the phone numbers a text gives.
fn numbers_in(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_digit() && c != ' ')
        .map(|run| run.replace(' ', ""))
        .filter(|n| !n.is_empty())
        .collect()
}

#[test]
fn no_reply_gives_a_retired_number_as_current() {
    let ids: Vec<&str> = brain().intent_ids().collect();
    let mut replies: Vec<String> = ids
        .iter()
        .map(|id| brain().respond(Input::Topic(id)).text())
        .collect();
    replies.push(brain().respond(Input::Media).text());
    assert!(
        !content().retired.is_empty(),
        "contacts.toml lists no retired numbers"
    );
    for retired in &content().retired {
        let number = retired.number.value.replace(' ', "");
        for reply in &replies {
            assert!(
                !numbers_in(reply).contains(&number),
                "retired {} in {reply}",
                retired.number.value
            );
        }
    }
}

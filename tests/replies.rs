//! What the bot says when it matters most (issue 13): a frightened teenager whose nude is being
//! shared, a parent who has just found images, someone confessing thoughts, a child being hurt,
//! a professional. Each test sends a message through the brain Telegram uses and asserts what
//! that person would read, in the order they would read it.

mod support;

use safeguard_bot::check::SCREEN_LIMIT;
use safeguard_bot::{Input, Kind, Reply};
use support::{brain, content, phone, web};

fn ask(text: &str) -> Reply {
    brain().respond(Input::Text(text)).into_owned()
}

fn topic(id: &str) -> String {
    brain().respond(Input::Topic(id)).text()
}

/// Asserts `reply` is an answer of `intent` and that each of `needles` appears, in this order.
fn says_in_order(reply: &Reply, intent: &str, needles: &[&str]) {
    assert_eq!(
        (reply.intent.as_str(), reply.kind),
        (intent, Kind::Answer),
        "{reply:#?}"
    );
    let mut from = 0;
    for needle in needles {
        let at = reply.reply[from..]
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing (or out of order) in:\n{}", reply.reply));
        from += at + needle.len();
    }
}

#[test]
fn an_evidence_question_is_told_never_to_screenshot_first() {
    for question in [
        "should we keep the picture as proof",
        "is it alright to screenshot the page so the police believe me",
        "should we delete it",
    ] {
        let reply = ask(question);
        says_in_order(
            &reply,
            "report_image",
            &[
                "Don't screenshot, save, download",
                "not even to the police",
                &web("iwf"),
                "Delete nothing",
            ],
        );
        // No bare "No:" first: to "should we delete it" it would read as "don't delete".
        assert!(
            reply.reply.starts_with("Don't screenshot, save, download"),
            "{}",
            reply.reply
        );
    }
    // Whose pictures "them" are is not said: an image seen or one's own sent are both fair
    // readings, and both answers open with the same rule and keep everything when an adult or
    // a threat is involved.
    let reply = ask("must i delete them");
    assert!(
        ["report_image", "sent_image"].contains(&reply.intent.as_str()),
        "{reply:#?}"
    );
    assert!(
        reply.reply.starts_with("Don't screenshot, save, download"),
        "{}",
        reply.reply
    );
    assert!(
        reply.reply.contains("Delete nothing") || reply.reply.contains("don't delete anything"),
        "{}",
        reply.reply
    );
}

#[test]
fn an_evidence_question_about_a_nude_someone_sent_asks_who_sent_it_before_any_deleting() {
    let reply = ask("my mate sent me a nude of a girl, should i send it to a teacher so they know");
    says_in_order(
        &reply,
        "received_image",
        &[
            "Don't screenshot",
            "not even to the police or a teacher",
            "If an adult sent it",
            "don't delete anything",
            "don't keep it or send it on",
        ],
    );
}

#[test]
fn sextortion_is_answered_as_blackmail_don_t_pay_first() {
    let reply = ask("this account says it will post my nudes unless i pay it 50 quid");
    says_in_order(
        &reply,
        "sent_image",
        &[
            "blackmail",
            "not your fault",
            "Don't pay",
            "don't send anything more",
            "block",
            "don't delete anything",
            &web("ceop"),
            &phone("police_101"),
            &web("report_remove"),
            &phone("childline"),
        ],
    );
}

#[test]
fn a_parent_of_a_blackmailed_child_gets_the_parent_s_version() {
    let reply = ask("my son is being sextorted by someone on instagram");
    says_in_order(
        &reply,
        "sent_image",
        &["not your child's fault", "not to pay", &phone("nspcc")],
    );
}

#[test]
fn sent_image_says_not_your_fault_and_is_honest_about_removal() {
    let reply = topic("sent_image");
    for needle in [
        "not your fault",
        "not in trouble for asking for help",
        "can't remove copies saved on someone's phone",
        "WhatsApp or Snapchat",
        &phone("meic"),
    ] {
        assert!(reply.contains(needle), "{needle:?} missing:\n{reply}");
    }
}

#[test]
fn will_i_get_arrested_gets_outcome_21_unlikely_but_could() {
    let reply = ask("my nudes got posted on a group chat, could i go to prison");
    says_in_order(
        &reply,
        "sent_image",
        &[
            "not in trouble for asking for help",
            "Outcome 21",
            "unlikely",
            "could",
        ],
    );
}

#[test]
fn no_reply_promises_or_threatens_a_record() {
    let mut texts: Vec<String> = brain()
        .intent_ids()
        .flat_map(|id| brain().replies_of(id).into_iter().map(|(_, t)| t))
        .collect();
    texts.push(brain().respond(Input::Media).text());
    for text in &texts {
        let lower = text.to_lowercase();
        for forbidden in [
            "won't get a record",
            "will not get a record",
            "won't get a criminal record",
            "you will get a criminal record",
            "you will get a record",
            "never get a record",
        ] {
            assert!(!lower.contains(forbidden), "{forbidden:?} in:\n{text}");
        }
    }
}

#[test]
fn received_image_never_says_delete_before_asking_who_sent_it() {
    let reply = topic("received_image");
    let who = reply.find("who sent it").expect("asks who sent it");
    assert!(!reply[..who].to_lowercase().contains("delete"), "{reply}");
    assert!(!reply.contains("Then delete it"), "{reply}");
    assert!(
        reply.contains("not even to a friend or an adult to help"),
        "{reply}"
    );
}

#[test]
fn a_parent_who_found_images_gets_the_immediate_steps_first() {
    let reply = ask("i have just seen naked pictures on my daughters phone");
    says_in_order(
        &reply,
        "parent_advice",
        &[
            "Stay calm",
            "don't delete them before getting advice",
            "adult was involved",
            &web("ceop"),
            &web("report_remove"),
            &phone("nspcc"),
        ],
    );
    assert!(!reply.reply.contains("NSPCC research"), "{}", reply.reply);
}

#[test]
fn prevention_opens_without_judgement_and_gives_stop_it_now_s_real_terms() {
    for message in [
        "i look at images of children and i dont know how to stop",
        "i think im sexually attracted to young girls",
    ] {
        let reply = ask(message);
        says_in_order(
            &reply,
            "prevention",
            &[
                "It's good that you're asking for help",
                &phone("stop_it_now"),
                "You don't have to give your name",
                "they pass it on",
                "is a crime",
                &phone("police_999"),
            ],
        );
        assert!(
            !reply.reply.contains("Thank you for acting"),
            "{}",
            reply.reply
        );
        // FACTS.md supports only that callers need not give their name, and what is passed on
        // if they do: nothing about confidence or confidentiality.
        let lower = reply.reply.to_lowercase();
        for overstated in ["in confidence", "confidential"] {
            assert!(
                !lower.contains(overstated),
                "{overstated:?} in:\n{}",
                reply.reply
            );
        }
        says_in_order(
            &reply,
            "prevention",
            &[
                "You don't have to give your name or anything that identifies you",
                "If you do, and say a child has been or may be abused, someone else is at risk, or \
                 a crime was committed, they pass it on",
            ],
        );
    }
}

#[test]
fn every_reply_about_an_image_says_not_to_save_screenshot_or_share_it() {
    for id in [
        "report_image",
        "report_grooming",
        "report_anonymous",
        "received_image",
    ] {
        let reply = topic(id).to_lowercase();
        assert!(reply.contains("screenshot"), "{id}:\n{reply}");
    }
}

#[test]
fn report_image_tells_a_web_page_from_files_on_a_device() {
    let reply = topic("report_image");
    says_in_order(
        &Reply {
            intent: "report_image".into(),
            reply: reply.clone(),
            buttons: Vec::new(),
            kind: Kind::Answer,
            confidence: 1.0,
            candidates: Vec::new(),
        },
        "report_image",
        &[
            "web page",
            &web("iwf"),
            "device",
            &phone("police_101"),
            "Don't open, copy",
        ],
    );
}

#[test]
fn a_child_disclosing_abuse_gets_a_reply_written_for_a_child() {
    for message in [
        "my step dad hurts me when mum is out",
        "my mums partner keeps coming into my room",
        "my grandad touches me and i dont like it",
    ] {
        let reply = ask(message);
        assert_eq!(reply.kind, Kind::Answer, "{message}: {reply:#?}");
        assert!(
            ["report_concern", "emergency"].contains(&reply.intent.as_str()),
            "{message}: {}",
            reply.intent
        );
        for needle in [
            "not your fault",
            &phone("childline"),
            &phone("police_999"),
            &phone("meic"),
        ] {
            assert!(
                reply.reply.contains(needle),
                "{message}: {needle:?} missing:\n{}",
                reply.reply
            );
        }
        assert!(
            !reply.reply.contains("Thank you for speaking up"),
            "{}",
            reply.reply
        );
    }
}

#[test]
fn a_child_with_him_in_the_room_now_gets_999_first() {
    let reply = ask("he is in my room right now and im so scared");
    assert_eq!(reply.intent, "emergency");
    assert!(
        reply.reply.starts_with(&support::danger_line()),
        "{}",
        reply.reply
    );
    assert!(reply.reply.contains("not your fault"), "{}", reply.reply);
}

#[test]
fn blackmail_with_a_countdown_gets_999_first_and_still_says_don_t_pay() {
    for text in [
        "he gave me 20 mins to send more or he posts my pics everywhere",
        "my son has until 9pm to pay them or they send his video to all his friends",
    ] {
        let reply = ask(text);
        assert_eq!(reply.intent, "emergency", "{text}");
        assert!(
            reply.reply.starts_with(&support::danger_line()),
            "{}",
            reply.reply
        );
        assert!(reply.reply.contains("blackmail"), "{}", reply.reply);
        assert!(reply.reply.contains("not to pay") || reply.reply.contains("Don't pay"));
    }
    // Without a deadline it is the blackmail advice, with 999 inside it rather than first.
    let calm = ask("someone is threatening to post my nudes unless i pay");
    assert_eq!(calm.intent, "sent_image");
    // A deadline that is not a threat about pictures is no emergency.
    let trip = ask("how do i pay for the school trip by tomorrow");
    assert_ne!(trip.intent, "emergency");
    // Blackmail beside other danger now: the general answer, not only "don't pay".
    let hitting = ask("my dad is hitting my mum right now and threatening to share her pictures");
    assert_eq!(hitting.intent, "emergency");
    assert!(!hitting.reply.contains("blackmail"), "{}", hitting.reply);
}

#[test]
fn meic_stands_beside_childline_for_young_people() {
    for id in [
        "sent_image",
        "received_image",
        "sexting_risks",
        "report_grooming",
        "victim_support",
    ] {
        let reply = topic(id);
        assert!(reply.contains(&phone("childline")), "{id}: {reply}");
        assert!(reply.contains(&phone("meic")), "{id}: {reply}");
    }
    let reply = ask("im 13 and live in wrexham, who should i talk to");
    says_in_order(&reply, "contacts", &[&phone("childline"), &phone("meic")]);
}

#[test]
fn an_adult_whose_own_image_is_shared_gets_adult_services_only() {
    let reply = ask("i'm 34 and my ex husband is sharing nude photos of me");
    says_in_order(
        &reply,
        "sent_image",
        &[
            "18 or over",
            &phone("revenge_porn"),
            &web("stopncii"),
            "under 18 in the image",
        ],
    );
    let links: Vec<String> = reply
        .buttons
        .iter()
        .filter_map(|b| match b {
            safeguard_bot::Button::Link { url, .. } => Some(url.clone()),
            safeguard_bot::Button::Topic { .. } => None,
        })
        .collect();
    assert!(
        links.iter().any(|u| u.contains(&web("stopncii"))),
        "{links:?}"
    );
    assert!(
        !links.iter().any(|u| u.contains("childline.org.uk")),
        "an under-18 service offered to an adult: {links:?}"
    );
    // The adult services are never offered to an under-18.
    let teen = ask("im 15 and my ex is sharing my nudes");
    assert_eq!(teen.intent, "sent_image");
    assert!(
        !teen.reply.contains(&phone("revenge_porn")),
        "{}",
        teen.reply
    );
    assert!(!teen.reply.contains(&web("stopncii")), "{}", teen.reply);
}

#[test]
fn figures_answer_the_part_asked_with_its_source_not_the_whole_table() {
    let gwent = ask("how many crimes did gwent record in 2015");
    assert_eq!(gwent.intent, "figures");
    assert_eq!(gwent.reply.matches("109").count(), 1, "{}", gwent.reply);
    assert!(
        !gwent.reply.contains("480"),
        "the table again:\n{}",
        gwent.reply
    );
    assert!(
        gwent.reply.contains("Freedom of Information"),
        "{}",
        gwent.reply
    );

    let lowest = ask("is gwent police the lowest");
    says_in_order(&lowest, "figures", &["109", "2015 only", "can't say"]);

    let percent = ask("by how much in percent did it go up");
    says_in_order(
        &percent,
        "figures",
        &[
            "about 267%",
            "add up to",
            "includes Gwent",
            "629",
            "about 213%",
            "no figure for 2014",
        ],
    );

    let powys = ask("what were the dyfed powys numbers in 2015");
    says_in_order(
        &powys,
        "figures",
        &["412", "2013–2015", "no figure for 2015 alone"],
    );
}

#[test]
fn the_rise_says_2015_includes_gwent_and_2013_does_not() {
    for text in [topic("figures"), ask("did offences go up").reply] {
        let sum = text.find("add up to").expect("the sum is shown");
        assert!(text[sum..].contains("includes Gwent"), "{text}");
    }
}

/// A figure's value as a number ("1,321" is 1321).
fn figure(id: &str) -> u32 {
    let f = content()
        .figures
        .iter()
        .find(|f| f.id.value == id)
        .unwrap_or_else(|| panic!("no figure {id}"));
    f.value.replace(',', "").parse().expect("a number")
}

#[test]
fn that_2015_includes_gwent_is_worked_out_from_the_force_figures_and_the_sum_holds() {
    // FACTS.md does not say in words that the 2015 total includes Gwent. It follows because
    // the forces' figures, Gwent's 2015 only figure among them, add up to the 2013-2015 total.
    assert_eq!(
        figure("south_wales")
            + figure("dyfed_powys")
            + figure("north_wales")
            + figure("gwent_2015"),
        figure("wales_total")
    );
    assert_eq!(
        figure("wales_2015") - figure("gwent_2015"),
        figure("wales_2015_without_gwent")
    );
    for (which, text) in every_reply() {
        for bare in ["total includes Gwent", "Gwent's 109 included"] {
            assert!(!text.contains(bare), "{which}: stated as fact:\n{text}");
        }
        if let Some(at) = text.find("includes Gwent") {
            assert!(
                text[..at].contains("add up to"),
                "{which}: 'includes Gwent' without the sum it comes from:\n{text}"
            );
        }
    }
}

#[test]
fn sexting_risks_says_a_record_could_follow_not_that_it_will() {
    let reply = topic("sexting_risks");
    assert!(reply.contains("could lead to a criminal record"), "{reply}");
    assert!(!reply.contains("and a criminal record if"), "{reply}");
}

#[test]
fn every_reply_fits_one_phone_screen() {
    let mut longest = (0, String::new());
    for id in brain().intent_ids() {
        for (answers, text) in brain().replies_of(id) {
            let chars = text.chars().count();
            if id == "contacts" && answers.is_empty() {
                continue; // the whole list, asked for
            }
            assert!(
                chars <= SCREEN_LIMIT,
                "{id} {answers:?}: {chars} characters:\n{text}"
            );
            if chars > longest.0 {
                longest = (chars, format!("{id} {answers:?}"));
            }
        }
    }
    assert!(
        longest.0 > SCREEN_LIMIT / 2,
        "the walk saw no real reply: {longest:?}"
    );
    let media = brain().respond(Input::Media).text();
    assert!(media.chars().count() <= SCREEN_LIMIT, "{media}");
}

#[test]
fn every_phone_number_given_comes_from_the_contacts_table() {
    let numbers = regex::Regex::new(r"\b0\d{2,4} ?\d{3,4} ?\d{3,4}\b").expect("pattern");
    let known: Vec<String> = content()
        .contacts
        .iter()
        .filter_map(|c| c.phone.clone())
        .collect();
    for id in brain().intent_ids() {
        for (_, text) in brain().replies_of(id) {
            for n in numbers.find_iter(&text) {
                assert!(
                    known.iter().any(|k| k == n.as_str()),
                    "{id}: {} is not a contact",
                    n.as_str()
                );
            }
        }
    }
}

#[test]
fn the_forget_notes_are_read_from_messages_toml() {
    let dir = support::copy_responses();
    let messages = support::read(dir.path(), "messages.toml");
    let edited = messages.replace("Done: I've deleted our messages", "Deleted: our messages");
    assert_ne!(edited, messages, "messages.toml holds the /forget note");
    support::write(dir.path(), "messages.toml", &edited);
    let brain = safeguard_bot::Brain::load(Some(dir.path())).expect("the edited folder loads");
    assert!(
        brain
            .forget_texts()
            .done
            .starts_with("Deleted: our messages"),
        "{}",
        brain.forget_texts().done
    );
    assert!(!include_str!("../src/telegram/forget.rs").contains("deleted our messages"));
}

/// The links a reply shows as buttons.
fn link_urls(reply: &Reply) -> Vec<String> {
    reply
        .buttons
        .iter()
        .filter_map(|b| match b {
            safeguard_bot::Button::Link { url, .. } => Some(url.clone()),
            safeguard_bot::Button::Topic { .. } => None,
        })
        .collect()
}

#[test]
fn a_parent_who_gives_their_own_age_gets_the_parent_s_answer_not_adult_services() {
    for message in [
        "i am 45 and my daughter's nudes are being shared",
        "im 38 and my son's pictures are going round his school",
        "i'm 52, someone is threatening to post my daughter's nudes unless she pays",
    ] {
        let reply = ask(message);
        assert_eq!(reply.intent, "sent_image", "{message}: {reply:#?}");
        for adult_only in [phone("revenge_porn"), web("revenge_porn"), web("stopncii")] {
            assert!(
                !reply.reply.contains(&adult_only),
                "{message}: an adult-only service for a child's image:\n{}",
                reply.reply
            );
        }
        assert!(
            reply.reply.contains("your child"),
            "{message}: not the parent's answer:\n{}",
            reply.reply
        );
        let links = link_urls(&reply);
        assert!(
            !links
                .iter()
                .any(|u| u.contains("revengeporn") || u.contains("stopncii")),
            "{message}: {links:?}"
        );
        assert!(
            links.iter().any(|u| u.contains("ceop.police.uk")),
            "{message}: {links:?}"
        );
        assert!(
            links.iter().any(|u| u.contains("nspcc.org.uk")),
            "{message}: {links:?}"
        );
    }
    let reply = ask("i am 45 and my daughter's nudes are being shared");
    says_in_order(
        &reply,
        "sent_image",
        &[
            "For you as a parent",
            &web("ceop"),
            &web("report_remove"),
            &phone("nspcc"),
        ],
    );
}

/// Every reply the bot can send: each intent's reply, with each answer and pair of answers, and
/// the reply to media.
fn every_reply() -> Vec<(String, String)> {
    let mut texts: Vec<(String, String)> = brain()
        .intent_ids()
        .flat_map(|id| {
            brain()
                .replies_of(id)
                .into_iter()
                .map(move |(answers, t)| (format!("{id} {answers:?}"), t))
        })
        .collect();
    texts.push(("media".into(), brain().respond(Input::Media).text()));
    texts
}

#[test]
fn report_remove_is_only_ever_offered_for_someone_under_18() {
    // FACTS.md: Report Remove is for under-18s themselves; an adult whose image was taken at 16
    // cannot use it. Each line that gives its address says who it is for.
    let address = web("report_remove");
    for (which, text) in every_reply() {
        for line in text.lines().filter(|l| l.contains(&address)) {
            let lower = line.to_lowercase();
            assert!(
                ["under 18", "under-18", "your child"]
                    .iter()
                    .any(|who| lower.contains(who)),
                "{which}: Report Remove offered with no age:\n{line}"
            );
        }
    }
}

#[test]
fn the_adult_services_say_report_remove_only_if_still_under_18() {
    for (message, id) in [
        ("what is the revenge porn helpline number", "revenge_porn"),
        ("stopncii website", "stopncii"),
    ] {
        let reply = ask(message);
        says_in_order(
            &reply,
            "contacts",
            &[
                &web(id),
                "Under 18 in the image",
                &phone("police_101"),
                "CEOP",
                "Report Remove if you're still under 18",
            ],
        );
        assert!(
            !reply
                .reply
                .contains("For an image of someone under 18: Report Remove"),
            "{}",
            reply.reply
        );
    }
}

#[test]
fn report_remove_is_described_as_facts_md_does_and_no_more() {
    // FACTS.md: images still come down from most sites; the IWF fingerprints them so sites can
    // block re-uploads. Nothing promises that an image is gone from every site or can never
    // come back.
    for (which, text) in every_reply() {
        let lower = text.to_lowercase();
        for promise in [
            "blocked from being uploaded again",
            "blocked from re-upload",
            "taken down from websites",
            "gets it taken down",
            "gets images taken down",
        ] {
            assert!(!lower.contains(promise), "{which}: {promise:?} in:\n{text}");
        }
        if lower.contains("re-upload") {
            assert!(lower.contains("so sites can block"), "{which}:\n{text}");
        }
    }
    says_in_order(
        &ask("how does report remove work"),
        "sent_image",
        &[
            "Under 18? Report Remove",
            "taken down from most sites",
            "the IWF fingerprints it so sites can block re-uploads",
            &web("report_remove"),
        ],
    );
}

#[test]
fn the_sextortion_answer_offers_report_remove_to_under_18s() {
    let reply = ask("someone is blackmailing me with my nudes");
    says_in_order(
        &reply,
        "sent_image",
        &[
            "Don't pay",
            "Under 18? Report Remove",
            &web("report_remove"),
        ],
    );
}

#[test]
fn the_law_answer_offers_report_remove_only_to_under_18s() {
    let reply = ask("im 20 is sexting illegal");
    says_in_order(
        &reply,
        "sexting_law",
        &[
            "under 18",
            "Under 18 and a nude of you is out there? Report Remove",
            &web("report_remove"),
        ],
    );
    assert!(
        !reply.reply.contains("A nude of you out there?"),
        "{}",
        reply.reply
    );
}

#[test]
fn the_forget_notes_promise_only_what_deleting_the_chat_does() {
    // Nobody can promise "no trace" (Telegram's servers, other devices, notifications): the
    // notes say what deleting the chat does, on this phone.
    let texts = brain().forget_texts();
    for note in [&texts.done, &texts.partial] {
        assert!(!note.to_lowercase().contains("no trace"), "{note}");
        assert!(
            note.contains("To remove the conversation from this phone, delete the chat itself too"),
            "{note}"
        );
    }
}

#[test]
fn someone_owning_up_to_their_own_viewing_reaches_prevention_not_report_it() {
    // Not examples in intents.toml: wording the table was not written from.
    for message in [
        "i looked at child abuse images and want to stop",
        "i have been watching child abuse videos and i want to stop",
        "ive looked at indecent images of kids and i need to stop",
    ] {
        let reply = ask(message);
        says_in_order(
            &reply,
            "prevention",
            &[
                "It's good that you're asking for help",
                &phone("stop_it_now"),
            ],
        );
        assert!(
            !reply.reply.contains("You're right to report it"),
            "{message}:\n{}",
            reply.reply
        );
    }
    // Reporting what someone found still reaches report_image.
    assert_eq!(
        ask("i looked at child abuse images and want to report them").intent,
        "report_image"
    );
}

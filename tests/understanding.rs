//! How the bot copes with messages as people really write them (issue 4): textspeak, typos,
//! negation, long messages, ties and questions outside its scope. The messages here are not in
//! ../shared/eval/dev.tsv nor in the examples of responses/, so they test the mechanisms, not
//! memorised sentences.

mod support;

use safeguard_bot::{Brain, Input, Kind, Reply};
use support::{brain, phone, DEV_MIN_ACCURACY};

fn ask(brain: &Brain, text: &str) -> Reply {
    brain.respond(Input::Text(text)).into_owned()
}

fn assert_intent(brain: &Brain, text: &str, intent: &str) {
    let reply = ask(brain, text);
    assert_eq!(
        (reply.intent.as_str(), reply.kind),
        (intent, Kind::Answer),
        "{text:?} should be answered as {intent}, got {reply:?}"
    );
}

#[test]
fn textspeak_reaches_the_same_answer_as_plain_english() {
    let brain = brain();
    for (textspeak, plain) in [
        (
            "is it ilegal 2 send nudez if ur 15",
            "is it illegal to send nudes if you are 15",
        ),
        (
            "sum1 on snap keeps askin my son 4 pix",
            "someone on snapchat keeps asking my son for pictures",
        ),
        (
            "wer can i report pics of kids i saw online",
            "where can i report pictures of children i saw online",
        ),
    ] {
        let a = ask(brain, textspeak);
        let b = ask(brain, plain);
        assert_eq!(a.intent, b.intent, "{textspeak:?} vs {plain:?}");
        assert_eq!(a.kind, Kind::Answer, "{textspeak:?} got {a:?}");
    }
}

#[test]
fn typos_in_domain_words_are_understood() {
    let brain = brain();
    assert_intent(brain, "is sextin ilegal", "sexting_law");
    assert_intent(
        brain,
        "how do i reprot someone groomng my daugter online",
        "report_grooming",
    );
    assert_intent(brain, "my nudez got leeked", "sent_image");
}

#[test]
fn a_misspelt_danger_word_still_gets_999_first() {
    let brain = brain();
    let danger_line = phone("police_999");
    for text in [
        "hes hurtin my little sister rite now",
        "my mates talkin about sucide",
        // A child who can only tap the SOS emoji.
        "🆘",
    ] {
        let reply = ask(brain, text);
        assert_eq!(reply.intent, "emergency", "{text:?} got {reply:?}");
        let first_line = reply.reply.lines().next().unwrap_or_default();
        assert!(
            first_line.contains(&danger_line),
            "{text:?}: first line {first_line:?}"
        );
    }
}

/// The built-in table without its model, so a test shows what the patterns catch alone,
/// whatever a retrained model makes of the same message.
fn patterns_only() -> Brain {
    let content = safeguard_bot::content::Content::embedded().expect("built-in content");
    Brain::new(content).expect("built-in content compiles")
}

#[test]
fn an_sos_or_a_wish_to_end_it_gets_999_first_from_the_patterns_without_the_model() {
    // The model alone used to hear the SOS emoji (and some blackmail with a deadline); the
    // patterns must too, whatever a retrained model makes of it.
    let patterns_only = patterns_only();
    let danger_line = phone("police_999");
    for text in [
        "🆘",
        "SOS",
        "sos pls",
        "🆘🆘 help",
        "s o s",
        "🆘🆘🆘🆘🆘🆘🆘",
        "please help me sos",
        // Words after the phrase, and a full stop folded to a space, must not hide it.
        "im ready to end it. i cant do this anymore",
        "ready to end it rn",
        "nobody would miss me sorry for ranting",
        // Blackmail for money with a deadline, however the threat is worded.
        "i think my nude is being shared and they want money by 9 tonight",
        "he wants £50 by tonight or my pics get shared",
        "it says my pics go up tonight",
        "blackmail. deadline 8pm. im 16",
        "mae o isio £100 erbyn hanner nos neu bydd o'n rhannu'r lluniau",
    ] {
        let reply = ask(&patterns_only, text);
        assert_eq!(reply.intent, "emergency", "{text:?} got {reply:?}");
        let first_line = reply.reply.lines().next().unwrap_or_default();
        assert!(
            first_line.contains(&danger_line),
            "{text:?}: {first_line:?}"
        );
    }
    // Not every mention of the word is a cry for help.
    assert_ne!(
        ask(&patterns_only, "what does sos stand for").intent,
        "emergency"
    );
    // Nor is every payment due with photos in the sentence.
    assert_ne!(
        ask(
            &patterns_only,
            "I ordered the school photos and the photographer wants the money by tomorrow"
        )
        .intent,
        "emergency"
    );
}

#[test]
fn danger_now_in_words_the_model_may_not_know_gets_999_first_from_the_patterns() {
    // Each kind was missed by the model on held-out data: the patterns must catch it alone.
    let patterns_only = patterns_only();
    for text in [
        // Welsh: "I'm thinking of killing myself tonight", "I want to die", "come quickly".
        "dw i'n meddwl am ladd fy hun heno",
        "dwi isio marw",
        "dewch yn gyflym plis",
        // An adult who has been messaging a child turns up for them, or they are meeting today.
        "the guy whos been messaging her is at the school gates right now",
        "a man from snapchat just turned up at the door asking for my daughter",
        "my son is meeting a 30 year old from fortnite at the park in an hour",
        "she has left with a man she met online",
        // Coercion on camera, abuse streamed live, money due today.
        "he wants me to take my clothes off on camera now",
        "theres a kid being abused live on this stream",
        "they will send my pics to everyone unless i pay today",
        // Short cries.
        "NEED POLICE",
        "emergency",
        "not safe",
        "my nudes will be posted at 9 unless i pay",
        "he is making me strip",
        "dere'n glou",
        "dwi isho marw",
        // Welsh "emergency, a child in danger now"; a deadline "until 9 tonight"; coming on
        // camera under a threat; someone from online at the school today.
        "argyfwng - plentyn mewn perygl rwan",
        "mae gen i tan 9 heno cyn iddo fo anfon y lluniau i dad",
        "that man from the game wants me to go on cam now or he'll tell everyone",
        "a guy from roblox says he knows my school and he'll be there at home time today",
        // A threat with "if I don't" is not a negation; abuse that starts again; a child
        // sneaking out to meet an adult.
        "if i dont send more pics by midnight he'll send them to everyone",
        // Suicide said as putting an end to it all.
        "i want to put an end to it all but i dont know if im brave enough",
        // A child who cannot be found now; Welsh "I'm being hurt" ("cael" is not "call").
        "i cant find my 5 year old",
        "lost my little boy at the royal welsh show",
        "dwi'n cael fy mrifo",
        "it started when i was 11 and he's coming round again tonight",
        "i thought it had stopped but he's started again today",
        "my 14 year old is sneaking out tonight to meet a 30 year old from snapchat",
        // A child taken, held, or kept from a parent, said with a person as the subject.
        "my daughter has been taken",
        "she's been grabbed by a man",
        "he wont give my little girl back",
        "she is being held by a man in a flat",
        // A child gone from home, a break-in in Welsh, a goodbye, pills set out, a man waiting.
        "my 13 year old wasnt home when i woke up and her phone is off",
        "her bed is empty and its 2am",
        "mae rhywun yn torri i mewn",
        "next time you see me ill be dead",
        "ive got the tablets lined up",
        "hes parked at the end of my road and says come out now",
        // (a reviewer's probes)
        "our little boy has just been taken",
        "she's being held in a flat",
        "my daughter is being held in a house by some men",
        "by the time you read this ill be dead",
        "her bed hasnt been slept in and her phone is off",
        "mae rhywun yn trio torri i mewn rwan",
        // Someone at the door, photos of a child's home from a stranger minutes ago, pills kept
        // for now, hiding from violence, a live stream, and in Welsh: someone in the house, a
        // window breaking, thrown out tonight, gone to meet someone.
        "the door handle is moving",
        "omg the door handle just moved and im home alone",
        "someone is trying the front door and its 3am",
        "im so scared the front door handle is moving up and down",
        "someone keeps sending my daughter photos of our front door from across the road, latest 2 minutes ago",
        "I have been looking up the pills I've hoarded to see if what I have is enough to be sure",
        "been stockpiling sleeping pills for weeks, taking them all tonight",
        "im hiding under the bed hes drunk and banging on the door",
        "hiding in my wardrobe hes going to kill mum",
        "cuddio yn y cwpwrdd dan star, mam yn crio, fo'n chwalu bob dim",
        "she's live on tiktok right now and men in the comments are telling her to take her top off",
        "theyre telling my daughter to strip on her live right now",
        "rywun yn y tŷ, clywais y ffenest yn torri lawr grisiau",
        "mae rhywun yn y ty",
        "sgen i nunlle i fynd heno, ma mam di nghicio fi allan a dwi'n 13",
        "my mum kicked me out and i have nowhere to go tonight",
        "merch fi 13 wedi gadael nodyn a mynd, dwi'n meddwl bod hi di mynd i gwrdd â rhywun o online",
        "mae fy merch i ar goll",
        "dad is smashing everything and i am hiding in the wardrobe",
        "the door handle is moving please help",
    ] {
        assert_eq!(
            ask(&patterns_only, text).intent,
            "emergency",
            "{text:?} should get 999 first"
        );
    }
    // The same words about the past, a story or a question are not danger now.
    for text in [
        "the kidnapping in that film last night was so scary",
        "he used to hold my head under the bath water when i was little",
        "what do you do if you see a kid being abused on a live stream",
        "is it safe to meet someone from online",
        // Everyday messages with the same words (a reviewer's probes).
        "the postman turned up asking for my dad",
        "the man is at the school gates now to pick up his son",
        "they wont deliver unless i pay today",
        "dont hang up or ill miss the bus lol",
        "my son is meeting a 16 year old friend after school",
        "she left with a man she knows, her uncle",
        "the swim coach is putting her face under the water",
        "the school photos go up tonight on the website",
        "is it happening now or tomorrow",
        "dwi ddim isio marw",
        "mae'r wefan ddim yn ddiogel",
        "helpwch fi gyda fy ngwaith cartref",
        "tyrd yma",
        "dydi hi ddim mewn perygl, dwi jyst isio gwybod am y gyfraith",
        "argyfwng y gwaith cartref, help efo mathemateg plis",
        "my mate from fortnite says he'll be at the park tomorrow for the match",
        "it started at 3pm and he's coming round later to watch the match",
        "my diet stopped working and then i started again",
        // Things that cannot be found, and a child being abused told by someone else (in Welsh
        // as in English: a worry to report).
        "i cant find my sons charger",
        "cant find my daughters school uniform",
        "i lost my son in the war",
        "plentyn yn cael ei gam-drin pwy dwi'n ffonio",
        // "If she isn't in danger, what should I do?" (Welsh "os" is not a condition word).
        "os dydy hi ddim mewn perygl beth ddylwn i wneud",
        // Ending something that is not a life.
        "how do i put an end to everything hes been sending her",
        // Things taken, held or kept back that are not people.
        "my landlord won't give my deposit back",
        "how do I report a stolen bike to the police, it was taken from outside Tesco",
        "got a scam text saying my parcel is being held, where do I report that",
        "he wasnt home so i left the parcel",
        "the spare room is empty now",
        "my tablets are ready at the pharmacy",
        "my dad is waiting outside my house to pick me up",
        // Everyday messages a reviewer found matching the first versions of those patterns.
        "he wasn't home when I got back, he was at football practice",
        "his room is empty since he went to uni",
        "his bed is empty because he's at his dads this week",
        "mae rhywun wedi torri i mewn i'r sied neithiwr",
        "mae hi eisiau torri i mewn i'r diwydiant ffilm",
        "next time you see me i'll be gone on holiday",
        "i have my tablets ready for the morning",
        "i've got all my pills counted out for the week",
        "someone is parked outside my house",
        "the guy is waiting outside my house to deliver a parcel",
        "the meeting is being held at the school on tuesday",
        "my son's birthday party is being held at the leisure centre",
        "the kids were taken on a school trip",
        "we were taken aback by what the school said",
        // The same words in everyday messages (a reviewer's probes of the door, photo, pills,
        // hiding and live stream patterns), and Welsh ones.
        "my door handle is moving side to side, which screwdriver do i need",
        "the door handle is loose and keeps turning",
        "someone is trying the front door, its my husband he forgot his key again",
        "somebody keeps trying the door of my shop at 7am before i open",
        "the estate agent took photos of our house outside just now",
        "my mum has been stockpiling tablets, she says she has enough for a year",
        "ive been collecting meds for the food bank, ready to drop off tomorrow",
        "i have been collecting my meds from the pharmacy and taking them all at the right time",
        "the kids are hiding under the bed screaming with laughter",
        "hiding in the wardrobe, the seeker is coming!",
        "when I was little I used to hide in the wardrobe when dad was drunk and shouting",
        "im live on twitch right now and chat keeps telling me to show my cat",
        "i live with my nan and she keeps asking me to strip the beds",
        "mae'r plant yn cuddio yn y cwpwrdd, mae nain yn dod",
        "maer ffenest wedi torri ers wythnos",
        "mae fy ffon ar goll",
        "dwi'n mynd i gwrdd a ffrindiau heno",
        "my flight got cancelled and i have nowhere to go tonight",
        // A second reviewer's probes: a thing of the child's lost, thrown out of a pub, a man
        // met about a car, chatting on Snapchat now, a prom gown ("gwn"), men fixing the roof,
        // a party to hide from, a handle to fix, "ofnadwy" (awful) is not "ofn" (fear).
        "mae ffon merch fi ar goll",
        "mae esgid y mab ar goll",
        "we got kicked out of the pub tonight lol",
        "we chucked out the old sofa tonight",
        "dwi angen taflu sbwriel allan heno",
        "mae dad wedi mynd i gwrdd a dyn am y car",
        "dwi yn siarad efo rhywun ar snapchat rwan",
        "mae rhywun ar fortnite yn chwarae efo fi rwan",
        "mae ganddi hi gwn prom hyfryd",
        "mae dynion yn y ty yn trwsio'r to",
        "mae rhywun yn y fflat uwchben yn chwarae miwsig",
        "my mum is throwing a party tonight so i am hiding in my room",
        "the door handle keeps turning can someone help me fix it",
        "mae rhywun yn cnocio ar y drws, mae'n ofnadwy o hwyr i'r postmon",
    ] {
        assert_ne!(
            ask(&patterns_only, text).intent,
            "emergency",
            "{text:?} is not danger now"
        );
    }
}

#[test]
fn ordinary_words_are_not_corrected_into_domain_words() {
    let brain = brain();
    // "rude" is one letter from "nude", "hunting" two from "hurting": both are real words.
    let reply = ask(brain, "my brother is being rude about my hunting trip");
    assert_ne!(reply.intent, "emergency");
    assert!(!reply.intent.starts_with("sext"), "{reply:?}");
}

#[test]
fn negated_danger_is_not_an_emergency() {
    let brain = brain();
    for (text, intent) in [
        (
            "im not in danger but i found a picture of a child being abused online",
            "report_image",
        ),
        (
            "no one is hurting me, i just want to know if sending nudes is illegal",
            "sexting_law",
        ),
    ] {
        let reply = ask(brain, text);
        assert_ne!(reply.intent, "emergency", "{text:?}");
        assert_eq!(reply.intent, intent, "{text:?} got {reply:?}");
    }
}

#[test]
fn danger_told_as_over_is_answered_for_what_they_ask_now() {
    let brain = brain();
    for (text, intent) in [
        (
            "when i was 13 my mum's friend tried to get in bed with me. im 18 now, is there a time limit on reporting it",
            "report_concern|victim_support",
        ),
        (
            "The girl next door told me her dad once threatened to kill her. She said it was months ago and he's calmed down. Should I report it?",
            "report_concern",
        ),
        (
            "How do I get a nude taken down that my ex posted last year? I was 15 when it was taken",
            "sent_image",
        ),
        (
            "I heard screaming next door yesterday but it's quiet now and I saw the kids go off to school fine",
            "report_concern",
        ),
        (
            "my daughter went missing last month but she came back, she wont talk about what happened and i think an older man was involved",
            "report_concern|victim_support",
        ),
        (
            "tried to kill myself 3 years ago after my pics got shared, is there support for people still dealing with it",
            "victim_support|sent_image",
        ),
    ] {
        let reply = ask(brain, text);
        assert!(
            intent.split('|').any(|i| i == reply.intent),
            "{text:?} got {reply:?}"
        );
    }
}

#[test]
fn danger_told_with_the_past_but_still_going_on_gets_999_first() {
    let brain = brain();
    for text in [
        "he hurt me years ago and he's coming back tonight",
        "my 13 yo went to meet a man from snapchat 20 mins ago",
        "last year my uncle started touching me and he still does it every time we visit",
        "it stopped last year but he's outside my house now",
        // A review's probes: a missing child, suicide and an overdose stay danger whatever
        // past they are told with, and so does what is not right yet or will happen.
        "my son went missing last week",
        "my 14 year old ran away last week and we cant find her",
        "my daughter went missing last tuesday, police know but shes not back",
        "i tried to kill myself last year and i will do it properly this time",
        "i overdosed last summer and ive swallowed a whole packet of paracetamol",
        "he used 2 hit me nw he has a knife",
    ] {
        assert_intent(brain, text, "emergency");
    }
}

#[test]
fn danger_late_in_a_long_message_still_wins() {
    let brain = brain();
    let text = "hi, sorry this is long. my daughter is 15 and she sent a picture to a boy last \
                month and we talked about it and i thought it was sorted. i wanted advice on \
                talking to her about sexting. but tonight her ex turned up and he is hitting her \
                right now in the garden";
    assert_intent(brain, text, "emergency");
}

#[test]
fn a_long_message_goes_to_what_it_is_mostly_about() {
    let brain = brain();
    let text = "my son is 14 and has just got his first phone. his friends are all on snapchat \
                and i'm worried about sexting and nudes going round. how do i talk to him about \
                it without him shutting down? any tips for parents would help";
    assert_intent(brain, text, "parent_advice");
}

#[test]
fn an_unclear_message_gets_did_you_mean_with_helplines() {
    let brain = brain();
    // A picture that could be one sent, received or seen: the patterns find nothing and the
    // model is split three ways (about 0.33, 0.29 and 0.18). One- and two-word probes sit on
    // the model's edge: "nude" and then "a picture" each leaned to one topic as the corpus
    // grew, so this one is chosen well under the 0.5 the model needs to answer alone.
    let reply = ask(brain, "its about a pic");
    assert_eq!(reply.kind, Kind::DidYouMean, "{reply:?}");
    assert!((1..=3).contains(&reply.buttons.len()), "{reply:?}");
    assert_eq!(reply.candidates.len(), reply.buttons.len());
    assert_eq!(reply.intent, reply.candidates[0]);
    assert!(reply.reply.contains(&phone("childline")));
    assert!(reply.reply.contains(&phone("nspcc")));
    assert!(reply.confidence < 0.75, "{reply:?}");
}

#[test]
fn questions_outside_the_bots_scope_get_the_fallback() {
    let brain = brain();
    for text in [
        "whats the weather like in swansea tomorrow",
        "how do i reset my iphone",
        "who won the rugby",
        "can u recommend a pizza place",
    ] {
        let reply = ask(brain, text);
        assert_eq!(reply.intent, "fallback", "{text:?} got {reply:?}");
        assert_eq!(reply.kind, Kind::Fallback);
        assert_eq!(reply.confidence, 0.0);
        assert!(reply.reply.contains(&phone("childline")));
        assert!(reply.reply.contains(&phone("nspcc")));
    }
}

#[test]
fn a_clear_message_is_answered_with_high_confidence() {
    let brain = brain();
    let reply = ask(
        brain,
        "how do i report child abuse images i found on a website",
    );
    assert_eq!(reply.kind, Kind::Answer);
    assert!(reply.confidence >= 0.75, "{reply:?}");
    assert!(reply.candidates.is_empty());
}

#[test]
fn every_labelled_set_stays_above_95_percent_with_every_emergency_caught() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("tests/data exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|x| x == "tsv"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        let cases = safeguard_bot::eval::parse(&text).expect("well-formed");
        let report = safeguard_bot::eval::run(brain(), &cases);
        assert!(
            report.accuracy >= DEV_MIN_ACCURACY,
            "{}:\n{}",
            file.display(),
            report.to_text()
        );
        if let Some(recall) = report.emergency_recall {
            assert_eq!(recall, 1.0, "{}:\n{}", file.display(), report.to_text());
        }
    }
}

#[test]
fn a_negation_word_before_danger_does_not_silence_the_alarm() {
    // "no" here is a cry, not "there is no danger": the 999 line must still come first.
    let brain = brain();
    for text in [
        "help no hes hurting me",
        "please help no stop hitting me now",
        "no no no he is hitting me right now",
    ] {
        assert_intent(brain, text, "emergency");
    }
}

#[test]
fn a_hint_of_danger_is_never_turned_into_the_fallback() {
    assert_intent(brain(), "scared of them coming round", "emergency");
}

#[test]
fn welsh_y_ty_is_the_house_not_thank_you() {
    // "yn y ty" is "in the house": textspeak once heard "in why thank you" and offered thanks.
    let heard = brain().understand("mae hi yn y ty").heard;
    assert!(heard.ends_with(" ty"), "{heard:?}");
    assert_ne!(ask(brain(), "dw i yn y ty").intent, "thanks");
    // English textspeak is unchanged.
    assert_eq!(brain().understand("ty so much").heard, "thank you so much");
}

#[test]
fn welsh_words_are_heard_as_written_not_corrected_into_english() {
    // "Send naked pictures": typo correction once heard "anon lluniau north" and answered
    // how to report anonymously.
    for text in [
        "anfon lluniau noeth",
        "mae rhywun yn rhannu llun ohona i",
        "dw i ddim yn ddiogel",
    ] {
        let heard = brain().understand(text).heard;
        for word in text.split(' ').filter(|w| w.len() >= 4) {
            assert!(
                heard.split(' ').any(|h| h == word),
                "{word:?} of {text:?} was heard as {heard:?}"
            );
        }
    }
}

//! Any text as one file of a content folder (the first byte picks which; the others are the
//! shipped ones): parsing and compiling never panic, problems name a file of the folder, and
//! a brain that compiles answers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use safeguard_bot::content::{Content, Sources};
use safeguard_bot::{Brain, Input};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let mut texts: Vec<String> = Sources::embedded()
        .files()
        .map(|(_, t)| t.to_owned())
        .collect();
    let file = usize::from(which) % texts.len();
    texts[file] = String::from_utf8_lossy(rest).into_owned();
    let sources = Sources::from_texts(texts.try_into().expect("one text per file"));
    let names: Vec<String> = sources.files().map(|(n, _)| n.to_owned()).collect();
    let named = |problems: &[safeguard_bot::problem::Problem]| {
        assert!(!problems.is_empty());
        for p in problems {
            assert!(names.iter().any(|n| **n == *p.at.file), "{p}");
            assert!(!p.message.contains('\n'), "{p}");
        }
    };
    match Content::parse(&sources) {
        Err(problems) => named(&problems),
        Ok(content) => match Brain::new(content) {
            Err(problems) => named(&problems),
            Ok(brain) => {
                for text in ["is sexting illegal", "help me now", "", "qwerty"] {
                    assert!(!brain.respond(Input::Text(text)).intent.is_empty());
                }
            }
        },
    }
});

//! `safeguard-bot ask`, through the built binary: one message in, the brain's reply out.

mod support;

use safeguard_bot::check::INTENT_IDS;
use safeguard_bot::cli::to_plain;
use safeguard_bot::Input;
use support::{brain, copy_responses, phone, read, run, write};

#[test]
fn ask_prints_the_reply_the_brain_gives() {
    let message = "where do I report an image of a child I saw online";
    let (code, stdout, _) = run(&["ask", message]);
    assert_eq!(code, 0);
    let expected = to_plain(&brain().respond(Input::Text(message)).into_owned());
    assert_eq!(stdout, format!("{expected}\n"));
}

#[test]
fn ask_json_has_intent_reply_and_buttons() {
    let message = "is sexting illegal";
    let (code, stdout, _) = run(&["ask", "--json", message]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(stdout.trim()).expect("valid JSON");
    let intent = json["intent"].as_str().expect("intent is a string");
    assert!(INTENT_IDS.contains(&intent), "unknown intent {intent}");
    assert!(!json["reply"].as_str().expect("reply").is_empty());
    let buttons = json["buttons"].as_array().expect("buttons is an array");
    for b in buttons {
        assert!(b["label"].is_string() && b["kind"].is_string(), "{b}");
    }
    let reply = brain().respond(Input::Text(message)).into_owned();
    assert_eq!(intent, reply.intent);
    assert_eq!(json["reply"], reply.reply.as_str());
    assert_eq!(stdout.lines().count(), 1, "one line of JSON");
}

#[test]
fn ask_json_of_a_did_you_mean_names_its_best_candidate() {
    // Whatever a message gets, `intent` is one of DESIGN.md's ids and, for a "did you
    // mean", the first of the candidates.
    for message in ["sexting", "report", "pics", "hello", "qwerty"] {
        let (_, stdout, _) = run(&["ask", "--json", message]);
        let json: serde_json::Value = serde_json::from_str(stdout.trim()).expect("valid JSON");
        let intent = json["intent"].as_str().expect("intent");
        assert!(INTENT_IDS.contains(&intent), "{message}: {intent}");
        if json["kind"] == "did_you_mean" {
            assert_eq!(json["candidates"][0], intent, "{message}");
        }
    }
}

#[test]
fn ask_joins_the_words_of_an_unquoted_message() {
    let (_, joined, _) = run(&["ask", "--json", "is", "sexting", "illegal"]);
    let (_, quoted, _) = run(&["ask", "--json", "is sexting illegal"]);
    assert_eq!(joined, quoted);
}

#[test]
fn ask_without_a_message_is_a_usage_error() {
    let (code, stdout, stderr) = run(&["ask"]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(stderr.to_lowercase().contains("usage"), "{stderr}");
}

#[test]
fn ask_uses_the_responses_folder_it_is_given() {
    let dir = copy_responses();
    // The operator changes the Childline number in one place; every reply follows.
    let old = phone("childline");
    let contacts = read(dir.path(), "contacts.toml");
    write(
        dir.path(),
        "contacts.toml",
        &contacts.replace(&format!("phone = \"{old}\""), "phone = \"0800 0000\""),
    );
    let folder = dir.path().to_str().expect("utf-8 path");
    let (code, stdout, _) = run(&["--responses", folder, "ask", "qwertyuiop zxcvbnm"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("0800 0000"), "{stdout}");
    assert!(!stdout.contains(&old), "{stdout}");
}

#[test]
fn ask_with_a_broken_folder_fails_in_one_line() {
    let dir = copy_responses();
    std::fs::remove_file(dir.path().join("figures.toml")).expect("remove");
    let folder = dir.path().to_str().expect("utf-8 path");
    let (code, stdout, stderr) = run(&["--responses", folder, "ask", "hello"]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("figures.toml"), "{stderr}");
}

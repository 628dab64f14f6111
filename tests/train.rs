//! `safeguard-bot train` as an operator uses it: on a copy of the shipped folder, through the
//! built binary. The shipped model must be the one its data gives, byte for byte; a model
//! trained on other data is refused by `check`; a message added to the corpus is learned.

mod support;

use std::path::Path;
use support::{assert_no_panic, bin, copy_responses, read, responses_dir, write};

/// Run the binary on `folder`: exit code, stdout, stderr.
fn run(folder: &Path, args: &[&str]) -> (i32, String, String) {
    let out = bin()
        .args(["--responses", folder.to_str().expect("utf-8 path")])
        .args(args)
        .timeout(std::time::Duration::from_secs(300))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_no_panic(&stderr);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

fn model_bytes(folder: &Path) -> Vec<u8> {
    std::fs::read(folder.join("model.bin")).expect("model.bin")
}

fn intent_of(folder: &Path, text: &str) -> String {
    let (code, stdout, stderr) = run(folder, &["ask", "--json", text]);
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    json["intent"].as_str().expect("intent").to_owned()
}

#[test]
fn training_the_shipped_data_gives_the_shipped_model_byte_for_byte_and_check_then_refuses_changed_data(
) {
    let dir = copy_responses();
    std::fs::remove_file(dir.path().join("model.bin")).expect("remove the copy's model");
    let (code, stdout, stderr) = run(dir.path(), &["train"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        model_bytes(dir.path()) == model_bytes(&responses_dir()),
        "the shipped responses/model.bin is not what its data gives: run `safeguard-bot train`"
    );
    // Change the data without training: check names the model and says what to do.
    let corpus = read(dir.path(), "corpus.tsv");
    write(
        dir.path(),
        "corpus.tsv",
        &format!("{corpus}is it illegal to forward a nude\tsexting_law\ta test\n"),
    );
    let (code, _, stderr) = run(dir.path(), &["check"]);
    assert_eq!(code, 1, "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("model.bin"))
        .unwrap_or_else(|| panic!("no line naming model.bin in:\n{stderr}"));
    assert!(line.contains("run `safeguard-bot train`"), "{line}");
}

#[test]
fn a_message_an_operator_adds_to_the_corpus_is_learned() {
    let dir = copy_responses();
    // A made-up word nothing knows: the bot cannot know it means the figures.
    let probe = "glimborax for wales";
    assert_ne!(intent_of(dir.path(), probe), "figures");
    let corpus = read(dir.path(), "corpus.tsv");
    let taught = [
        "glimborax please",
        "what is the glimborax",
        "show me glimborax",
        "glimborax for cardiff",
    ]
    .map(|m| format!("{m}\tfigures\tan operator's test\n"))
    .concat();
    write(dir.path(), "corpus.tsv", &format!("{corpus}{taught}"));
    let (code, stdout, stderr) = run(dir.path(), &["train"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    // The model trained with the sentence embedding learned the old data: it is emptied, and
    // the operator told how to make it again, rather than left to answer `--embedding` users.
    // (Emptied, not deleted: the build compiles the file in, and an empty one means none.)
    assert!(
        stdout.contains("emptied") && stdout.contains("train --embedding"),
        "{stdout}"
    );
    let left = std::fs::read(dir.path().join("model-embedding.bin")).expect("still there");
    assert!(left.is_empty());
    let (code, _, stderr) = run(dir.path(), &["check"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(intent_of(dir.path(), probe), "figures");
}

#[test]
fn a_corpus_line_with_an_unknown_intent_is_refused_at_its_line() {
    let dir = copy_responses();
    let corpus = read(dir.path(), "corpus.tsv");
    let line = corpus.lines().count() + 1;
    write(
        dir.path(),
        "corpus.tsv",
        &format!("{corpus}is sexting illegal\tsexting_laws\ta test\n"),
    );
    let (code, _, stderr) = run(dir.path(), &["check"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("corpus.tsv:{line}:")) && stderr.contains("sexting_laws"),
        "{stderr}"
    );
}

/// Where the last column scale (a float) of a model file starts: after the magic, the
/// fingerprint, the class ids, the keys and the biases; before the 8-bit weights.
fn last_scale_at(model: &[u8]) -> usize {
    let u32_at = |at: usize| u32::from_le_bytes(model[at..at + 4].try_into().unwrap()) as usize;
    let classes = u32_at(16);
    let mut at = 20;
    for _ in 0..classes {
        at += 1 + model[at] as usize;
    }
    let rows = u32_at(at);
    let width = classes + 1;
    at + 4 + 8 * rows + 4 * 2 * width - 4
}

#[test]
fn a_damaged_model_is_one_clear_problem_naming_the_file() {
    let dir = copy_responses();
    let good = model_bytes(dir.path());
    let mut huge_count = good.clone();
    // The class count sits after the 8-byte magic and the 8-byte fingerprint.
    huge_count[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut not_a_number = good.clone();
    let last_scale = last_scale_at(&good);
    not_a_number[last_scale..last_scale + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    let mut one_weight = good.clone();
    let weight = good.len() - 100;
    one_weight[weight] = one_weight[weight].wrapping_add(1);
    for bytes in [
        good[..good.len() / 2].to_vec(),
        huge_count,
        not_a_number,
        one_weight,
    ] {
        std::fs::write(dir.path().join("model.bin"), bytes).expect("write");
        let (code, _, stderr) = run(dir.path(), &["check"]);
        assert_eq!(code, 1, "{stderr}");
        assert!(
            stderr
                .lines()
                .any(|l| l.contains("model.bin") && l.contains("train")),
            "{stderr}"
        );
    }
}

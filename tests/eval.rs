//! The evaluation set of DESIGN.md (a copy in `tests/data/dev.tsv`) scored through the same code
//! path as Telegram, and the `eval` command's contract.

mod support;

use support::{assert_no_panic, bin, brain, dev_tsv, DEV_MIN_ACCURACY as MIN_ACCURACY};

#[test]
fn dev_set_scores_at_least_the_bar() {
    let path = dev_tsv();
    let tsv = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the evaluation set {} ({e}); set SAFEGUARD_DEV_TSV to its path",
            path.display()
        )
    });
    let cases = safeguard_bot::eval::parse(&tsv).expect("the evaluation set parses");
    assert!(cases.len() >= 50, "only {} cases", cases.len());
    let report = safeguard_bot::eval::run(brain(), &cases);
    assert!(
        report.accuracy >= MIN_ACCURACY,
        "accuracy {:.1}% is under {:.0}%:\n{}",
        report.accuracy * 100.0,
        MIN_ACCURACY * 100.0,
        report.to_text()
    );
    assert_eq!(
        report.emergency_recall,
        Some(1.0),
        "an emergency was missed:\n{}",
        report.to_text()
    );
}

fn eval_cli(args: &[&str]) -> (i32, String, String) {
    let out = bin().arg("eval").args(args).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_no_panic(&stderr);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

fn tsv_file(text: &str) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), text).expect("write");
    file
}

#[test]
fn eval_fails_below_the_minimum_accuracy() {
    let file =
        tsv_file("is sexting illegal\tsexting_law\nhello\tgreeting\nqwerty zxcv\temergency\n");
    let path = file.path().to_str().expect("utf-8 path");
    let (code, stdout, stderr) = eval_cli(&[path, "--min-accuracy", "1.0"]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("below"), "{stderr}");
    let (code, _, _) = eval_cli(&[path, "--min-accuracy", "0.0"]);
    assert_eq!(code, 0);
}

#[test]
fn eval_json_reports_accuracy_and_failures() {
    let file = tsv_file("# a comment\n\nqwerty zxcv\temergency\n");
    let path = file.path().to_str().expect("utf-8 path");
    let (code, stdout, _) = eval_cli(&[path, "--json"]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(json["total"], 1);
    assert_eq!(json["accuracy"], 0.0);
    assert_eq!(json["failures"][0]["line"], 3);
}

#[test]
fn a_line_without_intents_is_an_error_naming_the_line() {
    let file = tsv_file("is sexting illegal\tsexting_law\njust text, no tab\n");
    let (code, _, stderr) = eval_cli(&[file.path().to_str().expect("utf-8 path")]);
    assert_eq!(code, 1);
    assert!(stderr.contains("line 2"), "{stderr}");
}

#[test]
fn a_missing_evaluation_file_is_one_clear_line() {
    let (code, _, stderr) = eval_cli(&["/nonexistent/dev.tsv"]);
    assert_eq!(code, 1);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("/nonexistent/dev.tsv"), "{stderr}");
}

#[test]
fn eval_scores_each_file_with_danger_recall_false_alarms_and_out_of_scope() {
    let danger =
        tsv_file("hes hitting my mum right now\temergency\nis sexting illegal\tsexting_law\n");
    let other = tsv_file("whats the weather in cardiff tomorrow\tfallback\nhello\tgreeting\n");
    let paths = [danger.path(), other.path()].map(|p| p.to_str().expect("utf-8 path").to_owned());
    let (code, stdout, _) = eval_cli(&[&paths[0], &paths[1]]);
    assert_eq!(code, 0, "{stdout}");
    // One report per file, each headed by its name.
    assert_eq!(stdout.matches("== ").count(), 2, "{stdout}");
    assert!(stdout.contains(&format!("== {}", paths[1])), "{stdout}");
    for line in [
        "emergency recall    100.0%",
        "false alarms        0.0%",
        "out of scope        100.0%",
    ] {
        assert!(stdout.contains(line), "no {line:?} in:\n{stdout}");
    }
    let (_, json, _) = eval_cli(&[&paths[0], "--json"]);
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(json["false_alarms"], 0.0);
    assert_eq!(json["emergency_recall"], 1.0);
}

#[test]
fn danger_now_is_the_best_label_and_an_alternative_emergency_counts_on_neither_side() {
    // "emergency" as a second reading is not danger now: answering it with 999 is no false
    // alarm, and answering it calmly is no miss.
    let either = tsv_file("hes hitting my mum right now\tcontacts|emergency\nhello\tgreeting\n");
    let path = either.path().to_str().expect("utf-8 path").to_owned();
    let (code, stdout, _) = eval_cli(&[&path]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("false alarms        0.0%"), "{stdout}");
    assert!(stdout.contains("emergency recall    n/a"), "{stdout}");
    // Danger now answered with an acceptable but calm topic is a miss the report names.
    let missed = tsv_file("hello\temergency|greeting\n");
    let path = missed.path().to_str().expect("utf-8 path").to_owned();
    let (_, stdout, _) = eval_cli(&[&path]);
    assert!(stdout.contains("intent accuracy     100.0%"), "{stdout}");
    assert!(stdout.contains("emergency recall    0.0%"), "{stdout}");
    assert!(
        stdout.contains("danger now, not answered 999 first\n  line 1: \"hello\": got greeting"),
        "{stdout}"
    );
}

#[test]
fn eval_predictions_give_each_message_both_opinions_and_the_decision() {
    let set =
        tsv_file("hes hitting my mum right now\temergency\nis sexting illegal\tsexting_law\n");
    let path = set.path().to_str().expect("utf-8 path").to_owned();
    let out = tempfile::NamedTempFile::new().expect("a temporary file");
    let out_path = out.path().to_str().expect("utf-8 path").to_owned();
    let (code, stdout, _) = eval_cli(&[&path, "--predictions", &out_path]);
    assert_eq!(code, 0, "{stdout}");
    let written = std::fs::read_to_string(out.path()).expect("predictions written");
    let lines: Vec<serde_json::Value> = written
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    assert_eq!(lines.len(), 2, "{written}");
    assert_eq!(lines[0]["got"], "emergency");
    assert_eq!(lines[1]["labels"][0], "sexting_law");
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(lines[1]["file"], path.as_str());
    let topics = brain().intent_ids().count();
    for line in &lines {
        let model = line["model"].as_array().map_or(0, Vec::len);
        assert_eq!(model, topics, "one probability a topic: {line}");
        assert!(
            line["patterns"].is_array() && line["danger"].is_number(),
            "{line}"
        );
    }
}

#[test]
fn eval_refuses_to_write_predictions_over_a_set_it_scores() {
    let set = tsv_file("hello\tgreeting\n");
    let path = set.path().to_str().expect("utf-8 path").to_owned();
    let (code, _, stderr) = eval_cli(&[&path, "--predictions", &path]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("is one of the sets being scored"),
        "{stderr}"
    );
    let kept = std::fs::read_to_string(set.path()).expect("the set is still there");
    assert_eq!(kept, "hello\tgreeting\n");
}

#[test]
fn eval_predictions_cover_every_set_in_one_run_in_order() {
    let first = tsv_file("hello\tgreeting\n");
    let second = tsv_file("is sexting illegal\tsexting_law\nthanks\tthanks\n");
    let paths = [&first, &second].map(|f| f.path().to_str().expect("utf-8 path").to_owned());
    let out = tempfile::NamedTempFile::new().expect("a temporary file");
    let out_path = out.path().to_str().expect("utf-8 path").to_owned();
    let (code, stdout, _) = eval_cli(&[&paths[0], &paths[1], "--predictions", &out_path]);
    assert_eq!(code, 0, "{stdout}");
    let written = std::fs::read_to_string(out.path()).expect("predictions written");
    let files: Vec<String> = written
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("one JSON object a line");
            v["file"]
                .as_str()
                .expect("each line names its set")
                .to_owned()
        })
        .collect();
    assert_eq!(
        files,
        [&paths[0], &paths[1], &paths[1]].map(String::as_str),
        "{written}"
    );
}

#[test]
fn eval_with_a_broken_set_writes_no_predictions_at_all() {
    let good = tsv_file("hello\tgreeting\n");
    let broken = tsv_file("a line with no intents\n");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = dir.path().join("predictions.jsonl");
    let (code, _, stderr) = eval_cli(&[
        good.path().to_str().expect("utf-8 path"),
        broken.path().to_str().expect("utf-8 path"),
        "--predictions",
        out.to_str().expect("utf-8 path"),
    ]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("line 1"),
        "the error names the line: {stderr}"
    );
    assert!(!out.exists(), "nothing half-written is left behind");
}

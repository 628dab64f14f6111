//! `safeguard-bot classify`: one JSON line per input line, in order, exactly the reply the
//! brain gives, whatever the input looks like.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use safeguard_bot::brain::FALLBACK;
use safeguard_bot::classify::run_with;
use safeguard_bot::Input;
use support::{assert_no_panic, bin, brain, dev_messages, table_messages};

/// `classify` through the binary: exit code, output lines, stderr.
fn classify(stdin: Vec<u8>) -> (i32, Vec<String>, String) {
    let out = bin()
        .arg("classify")
        .write_stdin(stdin)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_no_panic(&stderr);
    let stdout = String::from_utf8(out.stdout).expect("output is UTF-8");
    (
        out.status.code().unwrap_or(-1),
        stdout.lines().map(str::to_owned).collect(),
        stderr,
    )
}

/// What `serde_json` writes for the reply `respond` gives: the line classify must print.
fn expected_line(message: &str) -> String {
    serde_json::to_string(&brain().respond(Input::Text(message)).into_owned()).expect("serialises")
}

/// A few hundred real-looking messages: the table's own and the evaluation set's.
fn messages() -> Vec<String> {
    let mut all = table_messages();
    all.extend(dev_messages());
    all
}

#[test]
fn classify_writes_one_line_per_input_line_in_order() {
    let messages = messages();
    let (code, lines, _) = classify(messages.join("\n").into_bytes());
    assert_eq!(code, 0);
    assert_eq!(lines.len(), messages.len());
    for (message, line) in messages.iter().zip(&lines) {
        let json: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        assert!(json["intent"].is_string() && json["reply"].is_string());
        assert_eq!(
            json["intent"],
            brain()
                .respond(Input::Text(message))
                .into_owned()
                .intent
                .as_str(),
            "out of order at {message:?}"
        );
    }
}

#[test]
fn classify_output_is_byte_for_byte_the_json_of_respond() {
    let messages = messages();
    let (_, lines, _) = classify(messages.join("\n").into_bytes());
    for (message, line) in messages.iter().zip(&lines) {
        assert_eq!(*line, expected_line(message), "for {message:?}");
    }
}

#[test]
fn empty_lines_get_fallback() {
    let (code, lines, _) = classify(b"\nhello\n\n   \n".to_vec());
    assert_eq!(code, 0);
    assert_eq!(lines.len(), 4);
    for i in [0, 2, 3] {
        let json: serde_json::Value = serde_json::from_str(&lines[i]).expect("JSON");
        assert_eq!(json["intent"], FALLBACK, "line {}", i + 1);
    }
}

#[test]
fn invalid_utf8_is_replaced_and_the_batch_goes_on() {
    let mut input = b"is sexting illegal\n".to_vec();
    input.extend_from_slice(b"bad \xff\xfe bytes \xc3\n");
    input.extend_from_slice(b"hello\n");
    let (code, lines, _) = classify(input);
    assert_eq!(code, 0);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0], expected_line("is sexting illegal"));
    assert_eq!(
        lines[1],
        expected_line("bad \u{fffd}\u{fffd} bytes \u{fffd}")
    );
    assert_eq!(lines[2], expected_line("hello"));
}

#[test]
fn crlf_line_ends_and_a_last_line_without_one_are_accepted() {
    let (_, lines, _) = classify(b"is sexting illegal\r\nhello".to_vec());
    assert_eq!(
        lines,
        [expected_line("is sexting illegal"), expected_line("hello")]
    );
}

#[test]
fn no_input_gives_no_output() {
    let (code, lines, stderr) = classify(Vec::new());
    assert_eq!(code, 0);
    assert!(lines.is_empty());
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn workers_and_a_single_thread_give_the_same_output() {
    // More lines than one batch, so that batches from several workers interleave.
    let messages = messages();
    let mut input = Vec::new();
    for i in 0..2100 {
        input.extend_from_slice(messages[i % messages.len()].as_bytes());
        input.push(b'\n');
        if i % 7 == 0 {
            input.push(b'\n');
        }
    }
    let mut outputs = Vec::new();
    for workers in [1, 3] {
        let mut out = Vec::new();
        run_with(brain(), &input[..], &mut out, workers).expect("classifies");
        outputs.push(out);
    }
    let lines = String::from_utf8(outputs[0].clone()).expect("UTF-8");
    assert_eq!(lines.lines().count(), 2100 + 2100usize.div_ceil(7));
    assert!(outputs[1] == outputs[0], "3 workers differ from 1");
}

#[test]
fn classify_with_jobs_writes_the_same_lines() {
    let input: String = messages().iter().map(|m| format!("{m}\n")).collect();
    let single = bin()
        .arg("classify")
        .write_stdin(input.clone())
        .output()
        .expect("runs");
    let three = bin()
        .args(["classify", "--jobs", "3"])
        .write_stdin(input)
        .output()
        .expect("runs");
    assert!(single.status.success() && three.status.success());
    assert!(!single.stdout.is_empty());
    assert!(
        three.stdout == single.stdout,
        "--jobs 3 differs from one worker"
    );
}

#[test]
fn a_reader_that_stops_early_ends_classify_quietly() {
    // `classify < big | head -1`: the rest of the output has nowhere to go.
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("safeguard-bot"))
        .arg("classify")
        .env_remove("RUST_BACKTRACE")
        .env("RUST_LOG", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let line = b"is sexting illegal\n".repeat(2000);
        for _ in 0..20 {
            if std::io::Write::write_all(&mut stdin, &line).is_err() {
                break;
            }
        }
    });
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("one line");
    assert!(first.starts_with('{'), "{first}");
    // Dropping the reader closes the pipe.
    let status = child.wait().expect("exits");
    let _ = writer.join();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("stderr");
    assert_no_panic(&stderr);
    assert!(status.success(), "exit {status}: {stderr}");
}

//! `safeguard-bot check`, through the built binary, on the shipped folder and on copies broken
//! the ways an operator might break them. Each must exit 1 with a line naming the file (and
//! the line where there is one), never a panic.

mod support;

use support::{assert_no_panic, bin, copy_responses, line_of, read, write};

/// `check` on a folder: exit code, stdout, stderr.
fn check(folder: &std::path::Path) -> (i32, String, String) {
    let out = bin()
        .args(["--responses", folder.to_str().expect("utf-8 path"), "check"])
        .timeout(std::time::Duration::from_secs(60))
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

/// The stderr line that names `file:line` and says `what`.
fn problem_line<'a>(stderr: &'a str, file: &str, line: usize, what: &str) -> &'a str {
    let at = format!("{file}:{line}:");
    stderr
        .lines()
        .find(|l| l.contains(&at) && l.contains(what))
        .unwrap_or_else(|| panic!("no line with `{at}` and `{what}` in:\n{stderr}"))
}

/// Insert `text` as a new line after the first line that starts with `after`; returns the
/// 1-based line number of the inserted line.
fn insert_after(dir: &std::path::Path, file: &str, after: &str, text: &str) -> usize {
    let old = read(dir, file);
    let at = old
        .find(&format!("\n{after}"))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{file} has no line starting {after:?}"));
    let end = at + old[at..].find('\n').expect("line end") + 1;
    write(
        dir,
        file,
        &format!("{}{text}\n{}", &old[..end], &old[end..]),
    );
    line_of(&old, end)
}

#[test]
fn check_accepts_the_shipped_folder() {
    let out = bin().arg("check").output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_no_panic(&stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "check found problems:\n{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok"));
}

#[test]
fn a_regex_that_does_not_compile_is_reported_at_its_line() {
    let dir = copy_responses();
    let line = insert_after(dir.path(), "intents.toml", "patterns = [", "  '(unclosed',");
    let (code, _, stderr) = check(dir.path());
    assert_eq!(code, 1);
    let problem = problem_line(&stderr, "intents.toml", line, "does not compile");
    assert!(problem.contains("emergency"), "names the intent: {problem}");
}

#[test]
fn a_sign_of_the_past_that_does_not_compile_is_reported_at_its_line() {
    let dir = copy_responses();
    let line = insert_after(
        dir.path(),
        "lexicon.toml",
        "told_as_over = [",
        "  '(unclosed',",
    );
    let (code, _, stderr) = check(dir.path());
    assert_eq!(code, 1);
    let problem = problem_line(&stderr, "lexicon.toml", line, "does not compile");
    assert!(
        problem.contains("told_as_over"),
        "names the list: {problem}"
    );
    let missing = insert_after(
        dir.path(),
        "lexicon.toml",
        "still_now = [",
        "  '{nowhere}',",
    );
    let (_, _, stderr) = check(dir.path());
    problem_line(&stderr, "lexicon.toml", missing, "{nowhere}");
}

#[test]
fn a_word_list_entry_that_can_never_match_is_reported_at_its_line() {
    // Each list is read word by word against the folded message, so a capital, a space or an
    // apostrophe means the entry never counts.
    for (list, bad) in [("conditions", "As long as"), ("negations", "Never")] {
        let dir = copy_responses();
        let old = read(dir.path(), "lexicon.toml");
        let shipped = format!("\n{list} = [");
        assert!(old.contains(&shipped), "lexicon.toml has no {shipped:?}");
        write(
            dir.path(),
            "lexicon.toml",
            &old.replacen(&shipped, &format!("{shipped}\n  \"{bad}\","), 1),
        );
        let new = read(dir.path(), "lexicon.toml");
        let line = line_of(&new, new.find(&format!("\"{bad}\"")).expect("written"));
        let (code, _, stderr) = check(dir.path());
        assert_eq!(code, 1, "{list}");
        let problem = problem_line(&stderr, "lexicon.toml", line, "not one lower-case word");
        assert!(problem.contains(list), "names the list: {problem}");
    }
}

#[test]
fn keeping_a_word_textspeak_does_not_change_is_reported_at_its_line() {
    // `textspeak_kept_after` only keeps words [textspeak] would rewrite; a key that is not
    // there is a slip (a typo of the word, or a rule removed from [textspeak]).
    let dir = copy_responses();
    let line = insert_after(
        dir.path(),
        "lexicon.toml",
        "[textspeak_kept_after]",
        "tyy = [\"yr\"]",
    );
    let (code, _, stderr) = check(dir.path());
    assert_eq!(code, 1);
    let problem = problem_line(&stderr, "lexicon.toml", line, "not a word in [textspeak]");
    assert!(problem.contains("tyy"), "names the word: {problem}");
}

#[test]
fn an_empty_or_unreadable_kept_after_list_is_reported_at_its_line() {
    // An empty list keeps nothing; a word with capitals or a space could never be the word
    // before, since messages are folded to lower-case words first.
    let dir = copy_responses();
    let empty = insert_after(
        dir.path(),
        "lexicon.toml",
        "[textspeak_kept_after]",
        "u = []",
    );
    let unreadable = insert_after(
        dir.path(),
        "lexicon.toml",
        "[textspeak_kept_after]",
        "ur = [\"Yn y\"]",
    );
    let (code, _, stderr) = check(dir.path());
    assert_eq!(code, 1);
    // The second insertion went in above the first, which moved down a line.
    let problem = problem_line(&stderr, "lexicon.toml", empty + 1, "empty list");
    assert!(problem.contains("`u`"), "names the word: {problem}");
    problem_line(
        &stderr,
        "lexicon.toml",
        unreadable,
        "not one lower-case word",
    );
}

#[test]
fn a_reply_naming_an_unknown_contact_is_reported() {
    let dir = copy_responses();
    let intents = read(dir.path(), "intents.toml");
    let at = intents
        .find("{phone:childline}")
        .expect("a reply gives Childline");
    let reply_start = intents[..at].rfind("reply = ").expect("inside a reply");
    let reply_end = at + intents[at..].find("\"\"\"\n").expect("reply closes");
    write(
        dir.path(),
        "intents.toml",
        &intents.replacen("{phone:childline}", "{phone:childlnie}", 1),
    );
    let (code, _, stderr) = check(dir.path());
    assert_eq!(code, 1);
    let problem = stderr
        .lines()
        .find(|l| l.contains("childlnie"))
        .unwrap_or_else(|| panic!("unknown contact not named:\n{stderr}"));
    let line: usize = problem
        .split(':')
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no line number in {problem}"));
    assert!(problem.contains("intents.toml:"), "{problem}");
    assert!(
        (line_of(&intents, reply_start)..=line_of(&intents, reply_end)).contains(&line),
        "line {line} is outside the reply: {problem}"
    );
}

#[test]
fn a_reply_over_telegrams_limit_is_reported() {
    let dir = copy_responses();
    let intents = read(dir.path(), "intents.toml");
    let start = intents.find("id = \"thanks\"").expect("thanks intent");
    let reply = start + intents[start..].find("reply = \"\"\"\n").expect("reply");
    let body = reply + "reply = \"\"\"\n".len();
    let long = "Please keep this in mind. ".repeat(200);
    write(
        dir.path(),
        "intents.toml",
        &format!("{}{long}\n{}", &intents[..body], &intents[body..]),
    );
    let (code, _, stderr) = check(dir.path());
    assert_eq!(code, 1);
    let problem = problem_line(
        &stderr,
        "intents.toml",
        line_of(&intents, reply) + 1,
        "4096",
    );
    assert!(problem.contains("thanks"), "{problem}");
}

#[test]
fn malformed_toml_is_reported_at_its_line() {
    let dir = copy_responses();
    let line = insert_after(dir.path(), "entities.toml", "[[entity]]", "id = \"oops");
    let (code, _, stderr) = check(dir.path());
    assert_eq!(code, 1);
    problem_line(&stderr, "entities.toml", line, "TOML");
}

#[test]
fn a_missing_file_is_reported_by_name() {
    let dir = copy_responses();
    std::fs::remove_file(dir.path().join("figures.toml")).expect("remove");
    let (code, stdout, stderr) = check(dir.path());
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    let problem = stderr
        .lines()
        .find(|l| l.contains("figures.toml"))
        .unwrap_or_else(|| panic!("missing file not named:\n{stderr}"));
    assert!(problem.contains("not found"), "{problem}");
}

#[test]
fn a_file_that_is_not_utf8_is_reported_by_name() {
    let dir = copy_responses();
    std::fs::write(dir.path().join("lexicon.toml"), b"negations = [\"\xff\"]\n").expect("write");
    let (code, _, stderr) = check(dir.path());
    assert_eq!(code, 1);
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("lexicon.toml") && l.contains("UTF-8")),
        "{stderr}"
    );
}

#[test]
fn a_folder_that_does_not_exist_is_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, _, stderr) = check(&dir.path().join("nowhere"));
    assert_eq!(code, 1);
    assert!(stderr.contains("intents.toml"), "{stderr}");
}

#[test]
fn a_retired_number_typed_into_a_reply_is_refused() {
    let dir = copy_responses();
    let retired = support::content()
        .retired
        .first()
        .expect("a retired number")
        .number
        .value
        .clone();
    let intents = read(dir.path(), "intents.toml");
    let at = intents
        .find("{phone:nspcc}")
        .expect("a reply gives the NSPCC");
    write(
        dir.path(),
        "intents.toml",
        &intents.replacen("{phone:nspcc}", &retired, 1),
    );
    let (code, _, stderr) = check(dir.path());
    assert_eq!(code, 1);
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("intents.toml:") && l.contains(&retired)),
        "line {} not reported:\n{stderr}",
        line_of(&intents, at)
    );
}

#[test]
fn every_problem_is_one_line_naming_a_file() {
    let dir = copy_responses();
    insert_after(dir.path(), "intents.toml", "patterns = [", "  '[z-a]',");
    let intents = read(dir.path(), "intents.toml");
    write(
        dir.path(),
        "intents.toml",
        &intents.replacen("{phone:nspcc}", "{phone:nobody}", 1),
    );
    let (code, _, stderr) = check(dir.path());
    assert_eq!(code, 1);
    let mut lines: Vec<&str> = stderr.lines().collect();
    let summary = lines.pop().expect("a summary line");
    assert!(summary.contains("problem"), "{summary}");
    for line in lines {
        assert!(line.contains(".toml"), "a problem without a file: {line}");
    }
}

#[test]
fn a_reply_over_one_phone_screen_is_refused_with_its_file_and_line() {
    let dir = copy_responses();
    let long = "This sentence makes the greeting far too long to read on one screen. ".repeat(10);
    let inserted = insert_after(
        dir.path(),
        "intents.toml",
        "Hello, I'm glad you got in touch.",
        &long,
    );
    let (code, _, stderr) = check(dir.path());
    assert_eq!(code, 1, "{stderr}");
    let file = dir.path().join("intents.toml");
    let line = problem_line(
        &stderr,
        file.to_str().expect("utf-8 path"),
        inserted - 1,
        "over one phone screen (700",
    );
    assert!(line.contains("greeting"), "{line}");
}

#[test]
fn an_answer_over_one_phone_screen_is_refused_at_the_answer_s_line() {
    let dir = copy_responses();
    let intents = read(dir.path(), "intents.toml");
    let answer = "text = \"{contact:samaritans}\"";
    let at = intents.find(answer).expect("the Samaritans answer");
    let line = line_of(&intents, at);
    let long = format!(
        "text = \"{{contact:samaritans}} {}\"",
        "Far too long. ".repeat(60)
    );
    write(
        dir.path(),
        "intents.toml",
        &intents.replacen(answer, &long, 1),
    );
    let (code, _, stderr) = check(dir.path());
    assert_eq!(code, 1, "{stderr}");
    let file = dir.path().join("intents.toml");
    let found = problem_line(
        &stderr,
        file.to_str().expect("utf-8 path"),
        line,
        "org_samaritans",
    );
    assert!(found.contains("contacts"), "{found}");
}

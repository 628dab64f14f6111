//! What the integration tests share: the shipped brain and content, numbers from the contacts
//! table, copies of `responses/` to break, the built binary, the bar for the development set;
//! and for the Telegram tests a fake Bot API server, updates as the Bot API sends them, and
//! the bot run as a child process. Each test file uses part of it.
#![allow(dead_code)]

pub mod fake_api;
pub mod process;
pub mod table;
pub mod updates;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use safeguard_bot::content::Content;
use safeguard_bot::reply::render;
use safeguard_bot::Brain;

/// The brain compiled from the shipped `responses/`, built once per test binary (compiling is
/// slow in a debug build).
pub fn brain() -> &'static Brain {
    static BRAIN: OnceLock<Brain> = OnceLock::new();
    BRAIN.get_or_init(|| match Brain::embedded() {
        Ok(brain) => brain,
        Err(problems) => panic!("the shipped responses do not compile: {}", problems[0]),
    })
}

/// The shipped content, parsed (whole: a brain keeps its content without the word list).
pub fn content() -> &'static Content {
    static CONTENT: OnceLock<Content> = OnceLock::new();
    CONTENT.get_or_init(|| match Content::embedded() {
        Ok(content) => content,
        Err(problems) => panic!("the shipped responses do not parse: {}", problems[0]),
    })
}

/// A contact's phone number as the contacts table gives it (never a literal in a test).
pub fn phone(id: &str) -> String {
    content()
        .contact(id)
        .and_then(|c| c.phone.clone())
        .unwrap_or_else(|| panic!("contacts.toml has no phone for `{id}`"))
}

/// A contact's web address as shown in text.
pub fn web(id: &str) -> String {
    content()
        .contact(id)
        .and_then(|c| c.web.clone())
        .unwrap_or_else(|| panic!("contacts.toml has no web address for `{id}`"))
}

/// The danger line (the 999 line) as it appears in replies.
pub fn danger_line() -> String {
    let c = content();
    render(&c.messages.danger_line, c, "danger_line").expect("danger line renders")
}

/// The repository's `responses/` folder.
pub fn responses_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("responses")
}

/// A fresh copy of `responses/` in a temporary folder, to break without touching the real one.
pub fn copy_responses() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(responses_dir()).expect("responses/ exists") {
        let entry = entry.expect("dir entry");
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("copy");
    }
    dir
}

/// Read a file of a copied folder.
pub fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).expect("read copied file")
}

/// Write a file of a copied folder.
pub fn write(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).expect("write copied file");
}

/// The 1-based line of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

/// The built `safeguard-bot` binary, with backtraces off so that a panic would show as one.
pub fn bin() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("safeguard-bot").expect("binary is built");
    cmd.env_remove("RUST_BACKTRACE")
        .env_remove("SAFEGUARD_EMBEDDING")
        .env("RUST_LOG", "off");
    cmd
}

/// Run the binary with `args`: (exit code, stdout, stderr), having checked stderr shows no panic.
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_no_panic(&stderr);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

/// Errors are one clear line and never a panic or a backtrace (DESIGN.md, the command line).
pub fn assert_no_panic(stderr: &str) {
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "stderr shows a panic:\n{stderr}"
    );
}

/// The accuracy the development set (and every set in `tests/data`) must reach: the same bar
/// as CI's `safeguard-bot eval ../shared/eval/dev.tsv --min-accuracy 0.95`.
pub const DEV_MIN_ACCURACY: f64 = 0.95;

/// The evaluation set of DESIGN.md: the repository's copy in `tests/data/dev.tsv` (so a clone
/// with nothing beside it passes), or the file named by `SAFEGUARD_DEV_TSV`.
pub fn dev_tsv() -> PathBuf {
    std::env::var_os("SAFEGUARD_DEV_TSV").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dev.tsv"),
        PathBuf::from,
    )
}

/// Every message the shipped table itself holds: examples and counter-examples of every intent.
pub fn table_messages() -> Vec<String> {
    table::table_messages(content())
}

/// The messages of the evaluation set, when it is there.
pub fn dev_messages() -> Vec<String> {
    std::fs::read_to_string(dev_tsv())
        .map(|tsv| {
            tsv.lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .filter_map(|l| l.split('\t').next())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Add `pattern` as the first pattern of the first intent (emergency) of a copied folder;
/// returns its line in `intents.toml`.
pub fn insert_pattern(dir: &Path, pattern: &str) -> usize {
    let old = read(dir, "intents.toml");
    let list = old.find("\npatterns = [\n").expect("a patterns list") + "\npatterns = [\n".len();
    write(
        dir,
        "intents.toml",
        &format!("{}  '{pattern}',\n{}", &old[..list], &old[list..]),
    );
    line_of(&old, list)
}

/// The shipped content with nine more copies of every intent (ids renamed, letters of the
/// patterns rotated so that no copy shares a pattern): ten times the patterns.
pub fn ten_times_the_table() -> Content {
    table::table_times(content(), 10)
}

/// A teloxide bot pointed at `fake` with the throttle raised, introduced to it (`getMe`), with
/// the shipped content and fresh metrics: what the handler and webhook tests start from.
pub async fn connected_bot(
    fake: &fake_api::FakeApi,
) -> (
    safeguard_bot::telegram::TgBot,
    teloxide::types::Me,
    std::sync::Arc<safeguard_bot::telegram::SharedBrain>,
    safeguard_bot::telegram::metrics::Metrics,
) {
    use safeguard_bot::telegram::{bot, Credentials, SharedBrain};
    let credentials = Credentials {
        token: fake_api::TOKEN.to_owned(),
        api_url: Some(fake.url().parse().expect("fake url")),
    };
    let bot =
        bot::connect(&credentials, bot::limits(10_000, 100, 6_000, 6_000)).expect("bot connects");
    let brain = SharedBrain::new(brain().clone());
    let metrics = safeguard_bot::telegram::metrics::Metrics::new();
    let me = bot::introduce(&bot, &brain.current(), &metrics)
        .await
        .expect("the fake answers getMe");
    (bot, me, brain, metrics)
}

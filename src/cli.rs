//! The command line: a contract that scripts and tests rely on (DESIGN.md).
//!
//! Each subcommand is a thin door onto [`Brain`]. Errors a person sees are one line on stderr
//! and a non-zero exit, never a panic or a backtrace.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::brain::{Brain, Input};
use crate::content::Sources;
use crate::embedding::Embedder;
use crate::reply::{Button, Reply};
use std::sync::Arc;

/// safeguard-bot: answers people worried about a child with vetted safeguarding guidance.
#[derive(Debug, Parser)]
#[command(name = "safeguard-bot", version, about)]
pub struct Cli {
    /// Use this responses folder instead of the one compiled into the binary.
    #[arg(long, global = true, value_name = "DIR")]
    pub responses: Option<PathBuf>,
    /// Also read each message with this sentence-embedding model (a folder with config.json,
    /// tokenizer.json and model.safetensors, e.g. all-MiniLM-L6-v2), through the model trained
    /// with it (model-embedding.bin). Needs a build with `--features embedding`.
    #[arg(long, global = true, value_name = "DIR", env = "SAFEGUARD_EMBEDDING")]
    pub embedding: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Talk to the bot in the terminal (no token needed).
    Chat,
    /// One message in, the reply out.
    Ask {
        /// Print {"intent", "reply", "buttons", ...} as JSON.
        #[arg(long)]
        json: bool,
        /// Also show why: the text the patterns saw, the scores, the entities found.
        #[arg(long)]
        explain: bool,
        /// The message.
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Read one message a line on stdin; write one JSON object a line, in order.
    Classify {
        /// Worker threads. One is the fastest on two cores (each worker warms its own
        /// automaton caches; BENCHMARKS.md); more may pay on a machine with cores to spare.
        #[arg(long, value_name = "N", default_value_t = 1)]
        jobs: usize,
    },
    /// Validate the responses folder; exit 1 with one line per problem.
    Check,
    /// Learn the model from the intents' examples and corpus.tsv, and write model.bin.
    ///
    /// Works on a folder on disk: --responses DIR, or ./responses (the repository's).
    Train {
        /// Instead of writing the model, cross-validate over this many parts of the corpus
        /// and report how often the bot, the patterns and the model were right.
        #[arg(long, value_name = "K")]
        folds: Option<usize>,
        /// With --folds: write what each opinion said on every held-out message (JSON lines).
        #[arg(long, value_name = "FILE", requires = "folds")]
        predictions: Option<PathBuf>,
    },
    /// Score the bot on a labelled TSV file (text, intents, needles).
    Eval {
        /// The evaluation files; each is scored on its own.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Exit 1 when accuracy (intent and needles) is below this share, 0 to 1.
        #[arg(long, value_name = "X")]
        min_accuracy: Option<f64>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Also write each message's opinions (patterns, model, danger) and the decision to
        /// this file, one JSON line a message, as `train --folds --predictions` does: for
        /// trying a policy change on a held-out set offline. It holds the sets' texts.
        #[arg(long, value_name = "FILE")]
        predictions: Option<PathBuf>,
    },
    /// Serve Telegram: long polling, or a webhook with --webhook-url and --listen.
    ///
    /// Reads TELOXIDE_TOKEN (from @BotFather), TELOXIDE_API_URL (another Bot API server, if
    /// any), WEBHOOK_SECRET (webhook mode; generated if unset) and RUST_LOG. SIGHUP reloads the
    /// --responses folder (checked first; a broken one is refused and the old content stays);
    /// SIGINT or SIGTERM stops.
    Telegram(TelegramArgs),
}

/// Options of `safeguard-bot telegram`.
#[derive(Debug, Args)]
pub struct TelegramArgs {
    /// Serve by webhook: the public https URL Telegram posts updates to (needs --listen).
    #[arg(long, value_name = "URL", requires = "listen")]
    pub webhook_url: Option<url::Url>,
    /// The local address the webhook listens on, such as 0.0.0.0:8443 (needs --webhook-url).
    /// It also serves GET /metrics and /healthz.
    #[arg(long, value_name = "ADDR", requires = "webhook_url")]
    pub listen: Option<SocketAddr>,
    /// Serve GET /metrics (Prometheus text; counters with no personal data) and /healthz on
    /// this address, such as 127.0.0.1:9464; in polling mode the only way to get them.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
    /// Most messages sent a second, to all chats together (Telegram's limit: 30). Raise it only
    /// for a local Bot API server or a load test.
    #[arg(long, value_name = "N", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_messages_per_second: u32,
    /// Most messages sent a second to one chat (Telegram's guidance: 1).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_messages_per_chat_per_second: u32,
    /// Most messages sent a minute to one chat (teloxide's default: 20).
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_messages_per_chat_per_minute: u32,
    /// Most messages sent a minute to one group or channel (teloxide's default: 10; Telegram
    /// allows 20).
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_messages_per_group_per_minute: u32,
}

/// A failure to report to the person at the terminal, in one line.
#[derive(Debug)]
pub struct Failure(pub String);

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure(format!("could not read or write: {e}"))
    }
}

/// Parse the command line, run it, and return the process exit code.
pub fn main() -> i32 {
    crate::privacy::forbid_core_dumps();
    quiet_panics();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    init_logging();
    match run(cli) {
        Ok(code) => code,
        Err(Failure(message)) => {
            eprintln!("safeguard-bot: {message}");
            1
        }
    }
}

/// A bug must still end in one clear line, not a backtrace, and the panic message is not
/// printed: it could hold a user's words.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map_or_else(String::new, |l| format!(" at {}:{}", l.file(), l.line()));
        eprintln!(
            "safeguard-bot: internal error{at}; please report it (nothing you typed was logged)"
        );
    }));
}

/// Print a line on stdout; a reader that closed the pipe (`| head`) is not an error.
fn emit(text: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .or_else(quiet_on_broken_pipe_io)
        .map_err(Failure::from)
}

fn quiet_on_broken_pipe_io(e: io::Error) -> io::Result<()> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(e)
    }
}

/// Logs go to stderr, at `RUST_LOG` or `info`. They never carry message text, ids or secrets
/// ([`crate::logging`]).
fn init_logging() {
    crate::logging::init();
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<i32, Failure> {
    let paths = cli.paths();
    match cli.command {
        Command::Check => Ok(check(&cli.responses)),
        Command::Train { folds, predictions } => train(&paths, folds, predictions),
        Command::Telegram(args) => telegram(&paths, args),
        Command::Chat => {
            let brain = load_brain(&paths)?;
            crate::console::run(&brain, io::stdin().lock(), io::stdout().lock())?;
            Ok(0)
        }
        Command::Ask {
            json,
            explain,
            text,
        } => {
            let brain = load_brain(&paths)?;
            let text = text.join(" ");
            if explain {
                eprintln!("{}\n", brain.explain(&text));
            }
            let reply = brain.respond(Input::Text(&text)).into_owned();
            let out = if json {
                to_json(&reply)
            } else {
                to_plain(&reply)
            };
            println!("{out}");
            Ok(0)
        }
        Command::Classify { jobs } => {
            let brain = load_brain(&paths)?;
            let (input, output) = (io::stdin().lock(), io::stdout().lock());
            crate::classify::run_with(&brain, input, output, jobs)?;
            Ok(0)
        }
        Command::Eval {
            files,
            min_accuracy,
            json,
            predictions,
        } => eval(&paths, &files, min_accuracy, json, predictions),
    }
}

/// `safeguard-bot eval`: every set is read and parsed, and the predictions file opened, before
/// any scoring, so a bad line or path fails at once and never leaves a half-written file.
fn eval(
    responses: &Paths,
    files: &[PathBuf],
    min_accuracy: Option<f64>,
    json: bool,
    predictions: Option<PathBuf>,
) -> Result<i32, Failure> {
    use std::io::Write as _;
    let sets = files
        .iter()
        .map(|file| read_set(file).map(|cases| (file, cases)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = match &predictions {
        Some(path) => {
            refuse_overwriting_a_set(path, files)?;
            let file = std::fs::File::create(path)
                .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))?;
            Some((path, std::io::BufWriter::new(file)))
        }
        None => None,
    };
    let brain = load_brain(responses)?;
    let mut below = false;
    for (file, cases) in &sets {
        let (report, lines) = score_set(&brain, file, cases, out.is_some());
        if let Some((path, out)) = &mut out {
            out.write_all(lines.as_bytes())
                .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))?;
        }
        if json {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
        } else {
            if files.len() > 1 {
                println!("== {}", file.display());
            }
            print!("{}", report.to_text());
        }
        if let Some(min) = min_accuracy.filter(|&min| report.accuracy < min) {
            eprintln!(
                "safeguard-bot: {}: accuracy {:.1}% is below the minimum {:.1}%",
                file.display(),
                report.accuracy * 100.0,
                min * 100.0
            );
            below = true;
        }
    }
    if let Some((path, mut out)) = out {
        out.flush()
            .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(i32::from(below))
}

/// `eval --predictions` must not write over one of the sets it scores: a labelled set is
/// someone's work.
fn refuse_overwriting_a_set(path: &std::path::Path, files: &[PathBuf]) -> Result<(), Failure> {
    let same = |f: &PathBuf| match (f.canonicalize(), path.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => f == path,
    };
    if files.iter().any(same) {
        return Err(Failure(format!(
            "--predictions {} is one of the sets being scored; give another file",
            path.display()
        )));
    }
    Ok(())
}

/// One evaluation file's cases; the error names the file (and the line, from the parser).
fn read_set(file: &std::path::Path) -> Result<Vec<crate::eval::Case>, Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure(format!("cannot read {}: {e}", file.display())))?;
    crate::eval::parse(&text).map_err(|e| Failure(format!("{}: {e}", file.display())))
}

/// Score one evaluation file's cases; with `explain`, also each case's prediction line, in
/// file order and naming the file, as `train --predictions` writes them.
fn score_set(
    brain: &Brain,
    file: &std::path::Path,
    cases: &[crate::eval::Case],
    explain: bool,
) -> (crate::eval::Report, String) {
    let mut lines = String::new();
    let report = crate::eval::run_each(brain, cases, |case, u, reply| {
        if explain {
            let mut json = crate::learn::prediction(brain, u, reply, &case.acceptable, case.line);
            json["file"] = serde_json::Value::from(file.display().to_string());
            lines.push_str(&json.to_string());
            lines.push('\n');
        }
    });
    (report, lines)
}

/// `safeguard-bot telegram`: check the token before anything else (the commonest mistake), then
/// load the content (once SIGHUP is handled) and serve until SIGINT or SIGTERM.
fn telegram(paths: &Paths, args: TelegramArgs) -> Result<i32, Failure> {
    use crate::telegram::{bot, webhook, Credentials, Mode, Settings};
    let failure = |e: crate::telegram::Error| Failure(e.0);
    let credentials = Credentials::from_env().map_err(failure)?;
    let mode = match (args.webhook_url, args.listen) {
        (Some(url), Some(listen)) => Mode::Webhook(webhook::Settings {
            url,
            listen,
            secret: webhook::secret_from_env().map_err(failure)?,
        }),
        _ => Mode::Polling,
    };
    let limits = bot::limits(
        args.max_messages_per_second,
        args.max_messages_per_chat_per_second,
        args.max_messages_per_chat_per_minute,
        args.max_messages_per_group_per_minute,
    );
    let settings = Settings {
        mode,
        limits,
        metrics_listen: args.metrics_listen,
        responses: paths.responses.clone(),
    };
    let load = || load_serving_brain(paths).map_err(|Failure(e)| crate::telegram::Error(e));
    crate::telegram::run(credentials, load, settings).map_err(failure)?;
    Ok(0)
}

/// `safeguard-bot train`: write `model.bin`, or cross-validate with `--folds`.
fn train(
    paths: &Paths,
    folds: Option<usize>,
    predictions: Option<PathBuf>,
) -> Result<i32, Failure> {
    let dir = paths
        .responses
        .clone()
        .unwrap_or_else(|| PathBuf::from("responses"));
    if !dir.is_dir() {
        return Err(Failure(format!(
            "{} is not a folder; run train from the repository or pass --responses DIR",
            dir.display()
        )));
    }
    let refused = |problems: Vec<crate::problem::Problem>| {
        for p in &problems {
            eprintln!("{p}");
        }
        Failure(format!(
            "{} problem(s); nothing was trained",
            problems.len()
        ))
    };
    let sources = Sources::read_dir(&dir).map_err(|p| refused(vec![p]))?;
    let mut data = crate::learn::Data::read(sources).map_err(refused)?;
    let started = std::time::Instant::now();
    if let Some(embedding) = &paths.embedding {
        let embedder = load_embedder(embedding)?;
        data = data
            .with_embedder(embedder)
            .map_err(|e| Failure(format!("--embedding: {e}")))?;
    }
    if let Some(k) = folds {
        let (report, lines) = data.cross_validate(k).map_err(refused)?;
        if let Some(path) = predictions {
            std::fs::write(&path, lines)
                .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))?;
        }
        emit(&format!(
            "{k}-fold cross-validation over the corpus ({:.1} s)\n{}",
            started.elapsed().as_secs_f64(),
            report.to_text()
        ))?;
        return Ok(0);
    }
    let model = data.train();
    let bytes = model.to_bytes();
    // With an embedding, the plain model is written as well: the bot without one (and
    // `check`) still needs it, and it must match the same data.
    let file = match model.dense() {
        Some(_) => {
            write_model(&dir, crate::content::MODEL, &data.train_plain().to_bytes())?;
            crate::embedding::MODEL_FILE
        }
        None => crate::content::MODEL,
    };
    write_model(&dir, file, &bytes)?;
    let also = if model.dense().is_some() {
        format!(
            " (and {} beside it)",
            dir.join(crate::content::MODEL).display()
        )
    } else {
        String::new()
    };
    emit(&format!(
        "wrote {}{also}: {} messages, {} features, {} KiB, {:.1} s",
        dir.join(file).display(),
        data.len(),
        model.features(),
        bytes.len() / 1024,
        started.elapsed().as_secs_f64()
    ))?;
    if model.dense().is_none() {
        drop_stale_embedding_model(&dir, model.fingerprint())?;
    }
    Ok(0)
}

/// After a plain `train`, a `model-embedding.bin` trained on the old data would answer
/// `--embedding` users with what the corpus used to say, and `check` would refuse the folder.
/// It is derived data (`train --embedding DIR` makes it again, bit for bit), so it is emptied
/// (not deleted: a build with `--features embedding` compiles the file in, and an empty one
/// means "none") and the operator told why and how to make it again.
fn drop_stale_embedding_model(dir: &std::path::Path, fingerprint: u64) -> Result<(), Failure> {
    let path = dir.join(crate::embedding::MODEL_FILE);
    let Ok(bytes) = std::fs::read(&path) else {
        return Ok(());
    };
    let why = match crate::model::Model::from_bytes(&bytes) {
        _ if bytes.is_empty() => return Ok(()),
        Ok(m) if m.dense().is_some() && m.fingerprint() == fingerprint => return Ok(()),
        Ok(m) if m.dense().is_some() => "it was trained on the old data",
        Ok(_) => "it held a model without an embedding",
        Err(_) => "it could not be read",
    };
    std::fs::write(&path, b"").map_err(|e| {
        Failure(format!(
            "cannot empty the out-of-date {}: {e}",
            path.display()
        ))
    })?;
    emit(&format!(
        "emptied {}: {why}; `safeguard-bot train --embedding DIR` (a build with --features embedding) makes it again",
        path.display()
    ))
}

/// Write one model file into the responses folder.
fn write_model(dir: &std::path::Path, name: &str, bytes: &[u8]) -> Result<(), Failure> {
    let path = dir.join(name);
    std::fs::write(&path, bytes)
        .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))
}

/// [`load_brain`] for a bot that will serve for months: also every pattern's own regex, which
/// a scan compiles only when a message needs it, must build (as `check` and a reload require),
/// so that a broken pattern stops the start rather than silently never matching.
fn load_serving_brain(dir: &Paths) -> Result<Brain, Failure> {
    let brain = load_brain(dir)?;
    match brain.pattern_problems().first() {
        None => Ok(brain),
        Some(first) => Err(Failure(format!(
            "a pattern cannot be compiled ({first}); run `safeguard-bot check` to see them all"
        ))),
    }
}

/// Where the command line says the brain comes from.
#[derive(Debug, Clone, Default)]
pub(crate) struct Paths {
    /// `--responses`: a folder, or the content compiled in.
    pub responses: Option<PathBuf>,
    /// `--embedding`: the sentence-embedding model's folder, if any.
    pub embedding: Option<PathBuf>,
}

impl Cli {
    fn paths(&self) -> Paths {
        Paths {
            responses: self.responses.clone(),
            embedding: self.embedding.clone(),
        }
    }
}

/// The embedding model `--embedding` names, or one line on what is wrong with it.
fn load_embedder(dir: &std::path::Path) -> Result<Arc<dyn Embedder>, Failure> {
    crate::embedding::load(dir).map_err(|e| Failure(format!("--embedding: {e}")))
}

/// Compile the content the command line names, or say in one line what is wrong with it;
/// with `--embedding`, the brain reads each message through the embedding model too.
pub(crate) fn load_brain(paths: &Paths) -> Result<Brain, Failure> {
    let dir = &paths.responses;
    let folder = || {
        dir.as_ref().map_or_else(
            || "the built-in responses".to_owned(),
            |d| d.display().to_string(),
        )
    };
    let refused = |problems: Vec<crate::problem::Problem>| {
        let first = problems
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        Failure(format!(
            "{} cannot be used ({} problem(s); the first: {first}); run `safeguard-bot check` to see them all",
            folder(),
            problems.len()
        ))
    };
    let sources = match dir {
        Some(d) => Sources::read_dir(d).map_err(|p| refused(vec![p]))?,
        None => Sources::embedded(),
    };
    let brain = Brain::from_sources(&sources).map_err(refused)?;
    match &paths.embedding {
        None => Ok(brain),
        Some(embedding) => with_embedder(brain, &sources, load_embedder(embedding)?),
    }
}

/// `brain` reading each message through `embedder` too, or one line on why it cannot.
pub(crate) fn with_embedder(
    brain: Brain,
    sources: &Sources,
    embedder: Arc<dyn Embedder>,
) -> Result<Brain, Failure> {
    brain
        .with_embedding(sources, embedder)
        .map_err(|e| Failure(format!("--embedding: {e}")))
}

fn check(dir: &Option<PathBuf>) -> i32 {
    let sources = match dir {
        Some(d) => match Sources::read_dir(d) {
            Ok(s) => s,
            Err(problem) => {
                eprintln!("{problem}");
                return 1;
            }
        },
        None => Sources::embedded(),
    };
    // One compile: the brain `check` built is the one summarised.
    match crate::check::checked(&sources) {
        Ok(brain) => {
            let c = brain.content();
            let examples: usize = c
                .intents
                .iter()
                .map(|i| i.examples.len() + i.counter_examples.len())
                .sum();
            let _ = emit(&format!(
                "ok: {} intents, {} contacts, {} figures, {examples} examples and counter-examples checked, version {}",
                c.intents.len(),
                c.contacts.len(),
                c.figures.len(),
                brain.version()
            ));
            0
        }
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!("{} problem(s); nothing was changed", problems.len());
            1
        }
    }
}

/// The reply as JSON: `{"intent", "reply", "buttons", "kind", "confidence", "candidates"}`.
pub(crate) fn to_json(reply: &Reply) -> String {
    serde_json::to_string(reply).unwrap_or_default()
}

/// The reply as text, with buttons listed under it.
pub fn to_plain(reply: &Reply) -> String {
    let mut out = reply.reply.clone();
    if !reply.buttons.is_empty() {
        out.push('\n');
        for b in &reply.buttons {
            match b {
                Button::Topic { label, .. } => out.push_str(&format!("\n[{label}]")),
                Button::Link { label, url } => out.push_str(&format!("\n[{label}] {url}")),
            }
        }
    }
    out
}

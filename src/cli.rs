//! The command line: a contract that scripts and tests rely on (DESIGN.md).
//!
//! Each subcommand is a thin door onto [`Brain`]. Errors a person sees are one line on stderr
//! and a non-zero exit, never a panic or a backtrace.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::brain::{Brain, Input};
use crate::content::Sources;
use crate::reply::{Button, Reply};

/// safeguard-bot: answers people worried about a child with vetted safeguarding guidance.
#[derive(Debug, Parser)]
#[command(name = "safeguard-bot", version, about)]
pub struct Cli {
    /// Use this responses folder instead of the one compiled into the binary.
    #[arg(long, global = true, value_name = "DIR")]
    pub responses: Option<PathBuf>,
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
        /// The message.
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Read one message a line on stdin; write one JSON object a line, in order.
    Classify,
    /// Validate the responses folder; exit 1 with one line per problem.
    Check,
    /// Score the bot on a labelled TSV file (text, intents, needles).
    Eval {
        /// The evaluation file.
        file: PathBuf,
        /// Exit 1 when accuracy (intent and needles) is below this share, 0 to 1.
        #[arg(long, value_name = "X")]
        min_accuracy: Option<f64>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
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

/// Logs go to stderr, at `RUST_LOG` or `info`. They never carry message text or ids.
fn init_logging() {
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format_timestamp_millis()
        .try_init();
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<i32, Failure> {
    match cli.command {
        Command::Check => Ok(check(&cli.responses)),
        Command::Chat => {
            let brain = load_brain(&cli.responses)?;
            crate::console::run(&brain, io::stdin().lock(), io::stdout().lock())?;
            Ok(0)
        }
        Command::Ask { json, text } => {
            let brain = load_brain(&cli.responses)?;
            let reply = brain.respond(Input::Text(&text.join(" ")));
            let out = if json {
                to_json(&reply)
            } else {
                to_plain(&reply)
            };
            println!("{out}");
            Ok(0)
        }
        Command::Classify => {
            let brain = load_brain(&cli.responses)?;
            classify(&brain, io::stdin().lock(), io::stdout().lock())?;
            Ok(0)
        }
        Command::Eval {
            file,
            min_accuracy,
            json,
        } => {
            let brain = load_brain(&cli.responses)?;
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure(format!("cannot read {}: {e}", file.display())))?;
            let cases = crate::eval::parse(&text)
                .map_err(|e| Failure(format!("{}: {e}", file.display())))?;
            let report = crate::eval::run(&brain, &cases);
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                );
            } else {
                print!("{}", report.to_text());
            }
            match min_accuracy {
                Some(min) if report.accuracy < min => {
                    eprintln!(
                        "safeguard-bot: accuracy {:.1}% is below the minimum {:.1}%",
                        report.accuracy * 100.0,
                        min * 100.0
                    );
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }
}

/// Compile the content the command line names, or say in one line what is wrong with it.
pub fn load_brain(dir: &Option<PathBuf>) -> Result<Brain, Failure> {
    Brain::load(dir.as_deref()).map_err(|problems| {
        let folder = dir
            .as_ref()
            .map_or_else(|| "the built-in responses".to_owned(), |d| d.display().to_string());
        let first = problems.first().map(ToString::to_string).unwrap_or_default();
        Failure(format!(
            "{folder} cannot be used ({} problem(s); the first: {first}); run `safeguard-bot check` to see them all",
            problems.len()
        ))
    })
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
    let problems = crate::check::check(&sources);
    if problems.is_empty() {
        let brain = Brain::load(dir.as_deref());
        let summary = brain.map_or_else(
            |_| String::new(),
            |b| {
                let c = b.content();
                let examples: usize = c.intents.iter().map(|i| i.examples.len() + i.counter_examples.len()).sum();
                format!(
                    ": {} intents, {} contacts, {} figures, {examples} examples and counter-examples checked, version {}",
                    c.intents.len(),
                    c.contacts.len(),
                    c.figures.len(),
                    b.version()
                )
            },
        );
        println!("ok{summary}");
        0
    } else {
        for p in &problems {
            eprintln!("{p}");
        }
        eprintln!("{} problem(s); nothing was changed", problems.len());
        1
    }
}

/// One JSON object per input line, in order, one output line for every input line. Invalid
/// UTF-8 is replaced (U+FFFD) rather than refused, so one bad line never stops a batch. The
/// work is done by [`crate::classify`], which renders each distinct reply once.
pub fn classify(brain: &Brain, input: impl BufRead, output: impl Write) -> Result<(), Failure> {
    Ok(crate::classify::run(brain, input, output)?)
}

/// The reply as JSON: `{"intent", "reply", "buttons", "kind", "confidence", "candidates"}`.
pub fn to_json(reply: &Reply) -> String {
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

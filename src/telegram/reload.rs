//! Content reload without a restart: on SIGHUP (`systemctl reload`), read the `--responses`
//! folder again, run every check `safeguard-bot check` runs, and swap the new brain in.
//!
//! The swap is atomic: an update is answered wholly by the old content or wholly by the new
//! ([`SharedBrain`]). A folder that fails any check is refused, with the number of problems and
//! the first one (file, line, message) in the log, and the old content keeps serving; content
//! problems describe the content files, never what a user wrote. Without `--responses` the bot
//! serves the content compiled into it, which cannot change: a reload then only says so.
//!
//! Cost: reading and compiling the folder and routing every example, on a blocking thread (a
//! fraction of a second in a release build); replies carry on meanwhile.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::content::Sources;
use crate::telegram::metrics::{Metrics, Reloaded};
use crate::telegram::signals::{Hangups, Stop};
use crate::telegram::SharedBrain;

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new version is serving.
    Loaded {
        /// The version now serving.
        version: String,
        /// The version it replaced.
        was: String,
    },
    /// The folder holds the version already serving; nothing was swapped.
    Unchanged {
        /// The version serving.
        version: String,
    },
    /// The bot serves its built-in content (no `--responses`): nothing to read again.
    BuiltIn {
        /// The version serving.
        version: String,
    },
    /// The folder failed the checks; the old version keeps serving.
    Refused {
        /// How many problems `check` would list.
        problems: usize,
        /// The first, as `check` prints it (`file:line: subject: message`).
        first: String,
        /// The version still serving.
        version: String,
    },
}

impl Outcome {
    /// The label counted in `safeguard_content_reloads_total`.
    pub fn result(&self) -> Reloaded {
        match self {
            Outcome::Loaded { .. } => Reloaded::Ok,
            Outcome::Unchanged { .. } | Outcome::BuiltIn { .. } => Reloaded::Unchanged,
            Outcome::Refused { .. } => Reloaded::Refused,
        }
    }
}

/// A reloaded brain reads messages through the serving one's embedding model too, or is
/// refused: silently dropping it would change every answer without a word in the log.
fn keep_embedder(
    sources: &Sources,
    brain: crate::Brain,
    embedder: Option<std::sync::Arc<dyn crate::embedding::Embedder>>,
) -> Result<crate::Brain, Vec<crate::problem::Problem>> {
    let Some(embedder) = embedder else {
        return Ok(brain);
    };
    brain.with_embedding(sources, embedder).map_err(|why| {
        let at = crate::problem::Loc::file(&std::sync::Arc::from(crate::embedding::MODEL_FILE));
        vec![crate::problem::Problem::new(&at, None, why)]
    })
}

/// Read `dir` again (the built-in content cannot change when it is `None`), check it as `check`
/// does, and swap it into `brain` if it passes and differs; log and count the outcome.
/// Synchronous and CPU-bound: call it on a blocking thread.
pub fn reload(dir: Option<&Path>, brain: &SharedBrain, metrics: &Metrics) -> Outcome {
    let serving = brain.current().version().to_owned();
    let outcome = match dir {
        None => Outcome::BuiltIn { version: serving },
        Some(dir) => {
            let embedder = brain.current().embedder();
            let checked = Sources::read_dir(dir)
                .map_err(|p| vec![p])
                .and_then(|s| keep_embedder(&s, crate::check::checked(&s)?, embedder));
            match checked {
                Ok(new) if new.version() == serving => Outcome::Unchanged { version: serving },
                Ok(new) => {
                    let version = new.version().to_owned();
                    brain.replace(new);
                    metrics.content_loaded(&version);
                    Outcome::Loaded {
                        version,
                        was: serving,
                    }
                }
                Err(problems) => Outcome::Refused {
                    problems: problems.len(),
                    first: problems
                        .first()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    version: serving,
                },
            }
        }
    };
    metrics.reload(outcome.result());
    match &outcome {
        Outcome::Loaded { version, was } => {
            log::info!("content reloaded: version {version} is serving (was {was})")
        }
        Outcome::Unchanged { version } => {
            log::info!("content reload: the folder holds version {version}, already serving; nothing changed")
        }
        Outcome::BuiltIn { version } => log::info!(
            "content reload: the bot serves its built-in content (start it with --responses DIR to reload a folder); version {version} keeps serving"
        ),
        Outcome::Refused {
            problems,
            first,
            version,
        } => log::error!(
            "content reload refused: {problems} problem(s), the first: {first}; version {version} keeps serving (run `safeguard-bot --responses DIR check` to see them all)"
        ),
    }
    outcome
}

/// Reload on every SIGHUP until `stop`, one reload at a time (SIGHUPs that arrive during one
/// are answered by one more).
pub async fn on_hangup(
    dir: Option<PathBuf>,
    brain: Arc<SharedBrain>,
    metrics: Metrics,
    mut hangups: Hangups,
    stop: Stop,
) {
    let dir: Option<Arc<Path>> = dir.map(Arc::from);
    loop {
        tokio::select! {
            () = stop.requested() => return,
            () = hangups.next() => {}
        }
        log::info!("SIGHUP received: reloading the content");
        let (dir, brain, metrics) = (dir.clone(), brain.clone(), metrics.clone());
        let done = tokio::task::spawn_blocking(move || {
            let outcome = reload(dir.as_deref(), &brain, &metrics);
            // Compiling threw away about 20 MB (and a swap freed the old content): hand the
            // pages back now rather than carry them until the bot is next idle (soak test).
            crate::telegram::memory::release_freed();
            outcome
        })
        .await;
        if done.is_err() {
            log::error!("content reload failed unexpectedly; the old content keeps serving");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Brain;

    #[test]
    fn without_a_folder_a_reload_changes_nothing() {
        let shared = SharedBrain::new(Brain::embedded().expect("content"));
        let before = shared.current();
        let metrics = Metrics::new();
        let outcome = reload(None, &shared, &metrics);
        assert!(matches!(outcome, Outcome::BuiltIn { .. }), "{outcome:?}");
        assert!(Arc::ptr_eq(&before, &shared.current()));
        assert!(metrics
            .render()
            .contains(r#"safeguard_content_reloads_total{result="unchanged"} 1"#));
    }

    #[test]
    fn a_missing_folder_is_refused_and_the_old_content_stays() {
        let shared = SharedBrain::new(Brain::embedded().expect("content"));
        let before = shared.current();
        let metrics = Metrics::new();
        let missing = std::env::temp_dir().join("safeguard-bot-no-such-folder-for-reload");
        let outcome = reload(Some(&missing), &shared, &metrics);
        let Outcome::Refused {
            problems, first, ..
        } = outcome
        else {
            panic!("expected a refusal, got {outcome:?}");
        };
        assert_eq!(problems, 1);
        assert!(
            first.contains("intents.toml") && first.contains("cannot read"),
            "{first}"
        );
        assert!(Arc::ptr_eq(&before, &shared.current()));
        assert!(metrics
            .render()
            .contains(r#"safeguard_content_reloads_total{result="refused"} 1"#));
    }
}

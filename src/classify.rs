//! The engine of `safeguard-bot classify`: one message a line in, one JSON object a line out,
//! in order, fast enough for an operator to run a large batch of real questions.
//!
//! Every line is answered by the brain exactly as a Telegram message is
//! ([`Brain::respond`] gives borrowed pieces of the brain's texts). What is saved is the
//! copying and the JSON: a reply's text is one of a few dozen vetted texts, about a kilobyte
//! each, and its buttons and intent ids come from the same small table. Copying them into a
//! [`Reply`] and escaping them as JSON strings was most of the cost of a line
//! (BENCHMARKS.md), so each distinct string and button is escaped once, by `serde_json`, and
//! copied after that. The output is byte for byte what `serde_json` writes for the `Reply`;
//! the `classify` tests hold it to that.
//!
//! Cost per line: fold, word rules and one scan (the brain), a few small hash lookups, and a
//! copy of the finished bytes. Memory: the escaped forms of the table's strings.

use std::io::{self, BufRead, BufWriter, Write};
use std::marker::PhantomData;

use rustc_hash::FxHashMap;

use crate::brain::{Brain, Input};
#[cfg(doc)]
use crate::reply::Reply;
use crate::reply::{Button, ReplyParts};

/// Most bytes of escaped strings kept for reuse; far above what a table needs.
pub(crate) const CACHE_BYTES: usize = 4 << 20;

/// Lines handed to a worker at a time: big enough that passing a batch costs little, small
/// enough that the first lines come out at once.
const BATCH_LINES: usize = 1024;

/// Classify every line of `input` to `output`. Invalid UTF-8 is replaced (U+FFFD) rather than
/// refused, so one bad line never stops a batch; `\r\n` line ends are accepted. A reader that
/// closes the pipe early (`| head`) ends the run quietly.
///
/// With `workers` 1 (or 0, `classify`'s default) it answers on the calling thread: on the
/// two-core target, two workers were slower than one (each warms its own lazy DFA, and the
/// second core is rarely idle); see BENCHMARKS.md. With more (`classify --jobs N`), batches of
/// lines are answered on the workers and written in input order, for machines with cores to
/// spare.
pub fn run_with(
    brain: &Brain,
    mut input: impl BufRead,
    output: impl Write,
    workers: usize,
) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, output);
    let result = if workers <= 1 {
        let mut json = Json::default();
        let mut batch = Vec::with_capacity(BATCH_LINES * 64);
        let mut answers = Vec::with_capacity(BATCH_LINES * 1024);
        loop {
            if read_batch(&mut input, &mut batch)? == 0 {
                break Ok(());
            }
            answers.clear();
            answer_batch(brain, &batch, &mut answers, &mut json);
            if let Err(e) = out.write_all(&answers) {
                break Err(e);
            }
        }
    } else {
        in_parallel(brain, &mut input, &mut out, workers)
    };
    result
        .and_then(|()| out.flush())
        .or_else(quiet_on_broken_pipe)
}

/// Read up to [`BATCH_LINES`] whole lines (with their line ends) into `batch`; returns how
/// many were read, 0 at the end of the input.
fn read_batch(input: &mut impl BufRead, batch: &mut Vec<u8>) -> io::Result<usize> {
    batch.clear();
    let mut lines = 0;
    while lines < BATCH_LINES && input.read_until(b'\n', batch)? > 0 {
        lines += 1;
    }
    Ok(lines)
}

/// Answer every line of a batch, appending one JSON line each to `answers`.
fn answer_batch<'a>(brain: &'a Brain, batch: &[u8], answers: &mut Vec<u8>, json: &mut Json<'a>) {
    let mut lines: Vec<&[u8]> = batch.split(|&b| b == b'\n').collect();
    if batch.last() == Some(&b'\n') {
        // The piece after the last line end is not a line.
        lines.pop();
    }
    for mut line in lines {
        while let [rest @ .., b'\r'] = line {
            line = rest;
        }
        let text = String::from_utf8_lossy(line);
        let reply = brain.respond(Input::Text(&text));
        // Writing to a Vec cannot fail.
        let _ = json.write(answers, &reply);
        answers.push(b'\n');
    }
}

/// Batches go round-robin to the workers; their answers are taken back in the same order, so
/// the output keeps the order of the input. At most two batches per worker are in flight.
fn in_parallel(
    brain: &Brain,
    input: &mut impl BufRead,
    out: &mut impl Write,
    workers: usize,
) -> io::Result<()> {
    use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
    std::thread::scope(|scope| {
        let mut to_workers: Vec<SyncSender<Vec<u8>>> = Vec::with_capacity(workers);
        let mut from_workers: Vec<Receiver<Vec<u8>>> = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (batch_tx, batch_rx) = sync_channel::<Vec<u8>>(2);
            let (answer_tx, answer_rx) = sync_channel::<Vec<u8>>(2);
            to_workers.push(batch_tx);
            from_workers.push(answer_rx);
            handles.push(scope.spawn(move || {
                let mut json = Json::default();
                for batch in batch_rx {
                    let mut answers = Vec::with_capacity(BATCH_LINES * 1024);
                    answer_batch(brain, &batch, &mut answers, &mut json);
                    if answer_tx.send(answers).is_err() {
                        break;
                    }
                }
            }));
        }
        let mut in_flight = std::collections::VecDeque::with_capacity(2 * workers);
        let mut next = 0;
        let mut result = Ok(());
        loop {
            if in_flight.len() == 2 * workers || (!in_flight.is_empty() && next == usize::MAX) {
                let worker: usize = in_flight.pop_front().unwrap_or_default();
                let written = match from_workers[worker].recv() {
                    Ok(answers) => out.write_all(&answers),
                    Err(_) => Err(io::Error::other("a classify worker stopped")),
                };
                if let Err(e) = written {
                    result = Err(e);
                    break;
                }
                continue;
            }
            if next == usize::MAX {
                break;
            }
            let mut batch = Vec::with_capacity(BATCH_LINES * 64);
            match read_batch(input, &mut batch) {
                Ok(0) => next = usize::MAX,
                Ok(_) => {
                    let worker = next % workers;
                    if to_workers[worker].send(batch).is_err() {
                        result = Err(io::Error::other("a classify worker stopped"));
                        break;
                    }
                    in_flight.push_back(worker);
                    next += 1;
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        // Closing the channels ends the workers; a worker that panicked is an error, not a
        // panic of the whole program.
        drop(to_workers);
        drop(from_workers);
        for handle in handles {
            if handle.join().is_err() && result.is_ok() {
                result = Err(io::Error::other("a classify worker failed"));
            }
        }
        result
    })
}

fn quiet_on_broken_pipe(e: io::Error) -> io::Result<()> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(e)
    }
}

/// Writes replies as JSON, remembering the JSON form of every string and button it has
/// written.
///
/// The memory is keyed by address: everything in a [`ReplyParts<'a>`] is borrowed from the
/// brain for `'a`, and the borrow rules guarantee that what lives at an address does not
/// change while it is borrowed, so the same address and length is the same string for the
/// whole run. Looking a kilobyte reply up costs one small hash, not a pass over its text.
struct Json<'a> {
    strings: FxHashMap<(usize, usize), Box<[u8]>>,
    buttons: FxHashMap<usize, Box<[u8]>>,
    bytes: usize,
    borrowed: PhantomData<&'a str>,
}

impl Default for Json<'_> {
    fn default() -> Self {
        Json {
            strings: FxHashMap::default(),
            buttons: FxHashMap::default(),
            bytes: 0,
            borrowed: PhantomData,
        }
    }
}

impl<'a> Json<'a> {
    /// Write `reply` exactly as `serde_json::to_writer(reply.into_owned())` would. The pattern
    /// names every field, in the order [`Reply`] declares (and so serialises) them: adding a
    /// field stops this compiling until it is written here too.
    fn write(&mut self, out: &mut impl Write, reply: &ReplyParts<'a>) -> io::Result<()> {
        let ReplyParts {
            intent,
            text,
            buttons,
            kind,
            confidence,
            candidates,
        } = reply;
        out.write_all(b"{\"intent\":\"")?;
        out.write_all(self.string(intent))?;
        out.write_all(b"\",\"reply\":\"")?;
        for (i, piece) in text.iter().enumerate() {
            if i > 0 {
                out.write_all(b"\\n\\n")?;
            }
            out.write_all(self.string(piece))?;
        }
        out.write_all(b"\",\"buttons\":[")?;
        for (i, button) in buttons.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(self.button(button))?;
        }
        out.write_all(b"],\"kind\":")?;
        serde_json::to_writer(&mut *out, kind)?;
        out.write_all(b",\"confidence\":")?;
        serde_json::to_writer(&mut *out, confidence)?;
        out.write_all(b",\"candidates\":[")?;
        for (i, candidate) in candidates.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(b"\"")?;
            out.write_all(self.string(candidate))?;
            out.write_all(b"\"")?;
        }
        out.write_all(b"]}")
    }

    /// The inside of `s` as a JSON string (without the quotes), by `serde_json`.
    fn string(&mut self, s: &'a str) -> &[u8] {
        let key = (s.as_ptr() as usize, s.len());
        if !self.strings.contains_key(&key) {
            let mut quoted = serde_json::to_vec(s).unwrap_or_default();
            quoted.pop();
            quoted.remove(0);
            self.remember(quoted.len());
            self.strings.insert(key, quoted.into());
        }
        &self.strings[&key]
    }

    /// A button as a JSON object, by `serde_json`.
    fn button(&mut self, button: &'a Button) -> &[u8] {
        let key = button as *const Button as usize;
        if !self.buttons.contains_key(&key) {
            let object = serde_json::to_vec(button).unwrap_or_default();
            self.remember(object.len());
            self.buttons.insert(key, object.into());
        }
        &self.buttons[&key]
    }

    /// Count what is kept. Everything written comes from one brain, so this is bounded by the
    /// size of its texts (tens of kilobytes for the shipped table); the check guards against
    /// a misuse that would make it grow.
    fn remember(&mut self, bytes: usize) {
        self.bytes += bytes;
        if self.bytes > CACHE_BYTES {
            self.strings.clear();
            self.buttons.clear();
            self.bytes = bytes;
        }
    }
}

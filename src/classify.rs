//! The engine of `safeguard-bot classify`: one message a line in, one JSON object a line out,
//! in order, fast enough for an operator to run a large batch of real questions.
//!
//! Every line is answered by [`Brain::respond`], exactly as a Telegram message is. What is
//! saved is the JSON: a reply's text is one of a few dozen vetted texts, about a kilobyte
//! each, and its buttons and intent ids come from the same small table; escaping them as JSON
//! strings was most of the cost of a line (BENCHMARKS.md). So each distinct string is escaped
//! once, by `serde_json`, and copied after that. The output is
//! byte for byte what `serde_json` writes for the [`Reply`]; the `classify` tests hold it to
//! that.
//!
//! Cost per line: one `respond`, one hash of the reply text, and the small fields written by
//! `serde_json`. Memory: at most [`CACHE_BYTES`] of escaped texts.

use std::io::{self, BufRead, BufWriter, Write};

use rustc_hash::FxHashMap;

use crate::brain::{Brain, Input};
use crate::reply::{Button, Reply};

/// Most bytes of escaped strings kept for reuse. The shipped table has a few hundred distinct
/// strings (texts, labels, ids, addresses); past this limit, strings are escaped each time.
pub const CACHE_BYTES: usize = 4 << 20;

/// Classify every line of `input` to `output`. Invalid UTF-8 is replaced (U+FFFD) rather than
/// refused, so one bad line never stops a batch; `\r\n` line ends are accepted. A reader that
/// closes the pipe early (`| head`) ends the run quietly.
pub fn run(brain: &Brain, mut input: impl BufRead, output: impl Write) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, output);
    let mut line = Vec::with_capacity(256);
    let mut texts = EscapedTexts::default();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        let text = String::from_utf8_lossy(&line);
        let reply = brain.respond(Input::Text(&text));
        let written = write_json(&mut out, &reply, &mut texts).and_then(|()| out.write_all(b"\n"));
        if let Err(e) = written {
            return quiet_on_broken_pipe(e);
        }
    }
    out.flush().or_else(quiet_on_broken_pipe)
}

fn quiet_on_broken_pipe(e: io::Error) -> io::Result<()> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(e)
    }
}

/// Write `reply` as `serde_json::to_writer` would, with every string escaped once per
/// distinct string. The patterns name every field of [`Reply`] and [`Button`], in declaration
/// (and so serialisation) order: adding a field stops this compiling until it is written
/// here too.
pub fn write_json(out: &mut impl Write, reply: &Reply, texts: &mut EscapedTexts) -> io::Result<()> {
    let Reply {
        intent,
        reply,
        buttons,
        kind,
        confidence,
        candidates,
    } = reply;
    out.write_all(b"{\"intent\":")?;
    out.write_all(texts.escaped(intent))?;
    out.write_all(b",\"reply\":")?;
    out.write_all(texts.escaped(reply))?;
    out.write_all(b",\"buttons\":[")?;
    for (i, button) in buttons.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        match button {
            Button::Topic { label, intent } => {
                out.write_all(b"{\"kind\":\"topic\",\"label\":")?;
                out.write_all(texts.escaped(label))?;
                out.write_all(b",\"intent\":")?;
                out.write_all(texts.escaped(intent))?;
            }
            Button::Link { label, url } => {
                out.write_all(b"{\"kind\":\"link\",\"label\":")?;
                out.write_all(texts.escaped(label))?;
                out.write_all(b",\"url\":")?;
                out.write_all(texts.escaped(url))?;
            }
        }
        out.write_all(b"}")?;
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
        out.write_all(texts.escaped(candidate))?;
    }
    out.write_all(b"]}")
}

/// A string and its JSON form.
type Escaped = (Box<str>, Box<[u8]>);

/// Strings already escaped as JSON strings (quotes included), by string.
///
/// Keyed by a sampled hash (length, first and last 32 bytes) so that looking up a kilobyte
/// reply does not hash all of it; a hit is confirmed by comparing the whole string.
#[derive(Debug, Default)]
pub struct EscapedTexts {
    buckets: FxHashMap<u64, Vec<Escaped>>,
    bytes: usize,
    scratch: Vec<u8>,
}

impl EscapedTexts {
    /// `text` as a JSON string, escaped now or earlier.
    fn escaped(&mut self, text: &str) -> &[u8] {
        let key = sampled_hash(text);
        let found = self
            .buckets
            .get(&key)
            .and_then(|bucket| bucket.iter().position(|(t, _)| **t == *text));
        if let Some(i) = found {
            return &self.buckets[&key][i].1;
        }
        self.scratch.clear();
        // Writing a str to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.scratch, text);
        if self.bytes + self.scratch.len() + text.len() > CACHE_BYTES {
            return &self.scratch;
        }
        self.bytes += self.scratch.len() + text.len();
        let bucket = self.buckets.entry(key).or_default();
        bucket.push((text.into(), self.scratch.as_slice().into()));
        &bucket[bucket.len() - 1].1
    }
}

fn sampled_hash(text: &str) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let bytes = text.as_bytes();
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    h.write_usize(bytes.len());
    h.write(&bytes[..bytes.len().min(32)]);
    h.write(&bytes[bytes.len().saturating_sub(32)..]);
    h.finish()
}

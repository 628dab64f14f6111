//! `safeguard-bot chat`: the bot in a terminal, with the same answers Telegram gives.
//!
//! Buttons become numbered choices: typing the number presses the button (a topic opens; a
//! website's address is printed). `quit`, `exit` or end of input leaves.

use std::io::{self, BufRead, Write};

use crate::brain::{Brain, Input};
use crate::reply::{Button, Reply};

/// Talk to the bot on `input` and `output` until the person leaves.
pub fn run(brain: &Brain, input: impl BufRead, mut output: impl Write) -> io::Result<()> {
    writeln!(
        output,
        "safeguard-bot chat. Type a message; a number picks a choice; quit leaves.\n"
    )?;
    let mut choices = show(
        &mut output,
        &brain.respond(Input::Command("start")).into_owned(),
    )?;
    for line in input.lines() {
        let line = line?;
        let text = line.trim();
        if matches!(
            text.to_ascii_lowercase().as_str(),
            "quit" | "exit" | "/quit"
        ) {
            break;
        }
        let picked = text
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|n| choices.get(n));
        let reply = match picked {
            Some(Button::Topic { intent, .. }) => brain.respond(Input::Topic(intent)),
            Some(Button::Link { label, url }) => {
                writeln!(output, "{label}: {url}\n")?;
                continue;
            }
            None => match text.strip_prefix('/') {
                Some(command) => brain.respond(Input::Command(
                    command.split_whitespace().next().unwrap_or(""),
                )),
                None => brain.respond(Input::Text(text)),
            },
        };
        choices = show(&mut output, &reply.into_owned())?;
    }
    Ok(())
}

/// Print a reply and its numbered choices; returns the choices.
fn show(output: &mut impl Write, reply: &Reply) -> io::Result<Vec<Button>> {
    writeln!(output, "{}", reply.reply)?;
    if !reply.buttons.is_empty() {
        writeln!(output)?;
        for (i, b) in reply.buttons.iter().enumerate() {
            let label = match b {
                Button::Topic { label, .. } => label.clone(),
                Button::Link { label, url } => format!("{label} ({url})"),
            };
            writeln!(output, "  {}. {label}", i + 1)?;
        }
    }
    write!(output, "\n> ")?;
    output.flush()?;
    Ok(reply.buttons.clone())
}

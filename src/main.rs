//! The `safeguard-bot` command: parses the command line and hands over to the library.

fn main() {
    std::process::exit(safeguard_bot::cli::main());
}

//! The built `safeguard-bot` binary as a child process: its stderr captured, stopped by signal.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Throttle flags raised so that the throttle does not slow a test down (a local server has no
/// limits).
pub const RAISED_LIMITS: [&str; 8] = [
    "--max-messages-per-second",
    "10000",
    "--max-messages-per-chat-per-second",
    "100",
    "--max-messages-per-chat-per-minute",
    "6000",
    "--max-messages-per-group-per-minute",
    "6000",
];

/// A running bot; killed if still running when dropped.
pub struct BotProcess {
    child: Child,
    log: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
}

impl BotProcess {
    /// Start the binary with `args` and `envs` (on top of a clean environment: PATH only).
    pub fn spawn(args: &[&str], envs: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_safeguard-bot"));
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, value) in envs {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("the built binary starts");
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        let reader = std::thread::spawn(move || {
            let mut buffer = [0u8; 8192];
            while let Ok(n) = stderr.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&buffer[..n]);
                sink.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push_str(&text);
            }
        });
        Self {
            child,
            log,
            reader: Some(reader),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything written to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Send `signal` ("TERM", "INT") to this process only, by its id.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args(["-s", signal, &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -s {signal} failed");
    }

    /// Wait up to `timeout` for the process to exit; its status, or None if still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                if let Some(reader) = self.reader.take() {
                    let _ = reader.join();
                }
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Send SIGTERM (or another signal) and return the exit status and how long the exit took.
    pub fn stop_with(&mut self, signal: &str, timeout: Duration) -> (Option<ExitStatus>, Duration) {
        let started = Instant::now();
        self.signal(signal);
        let status = self.wait_exit(timeout);
        (status, started.elapsed())
    }

    /// Peak resident memory so far (VmHWM), in KiB, while the process runs.
    pub fn peak_memory_kib(&self) -> Option<u64> {
        memory_kib(self.pid(), "VmHWM")
    }

    /// The process's soft and hard limits on core files, as `/proc/PID/limits` shows them
    /// ("0" when core dumps are off).
    pub fn core_file_limits(&self) -> Option<(String, String)> {
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", self.pid())).ok()?;
        let line = limits
            .lines()
            .find(|l| l.starts_with("Max core file size"))?;
        let mut values = line["Max core file size".len()..].split_whitespace();
        Some((values.next()?.to_owned(), values.next()?.to_owned()))
    }
}

/// A field of `/proc/PID/status` in KiB: `VmRSS` (resident now) or `VmHWM` (its peak so far).
pub fn memory_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Assert that `log` holds none of `needles` (user texts, names, ids, secrets), naming the
/// first one found and the line it is on.
pub fn assert_log_holds_none(log: &str, needles: &[String]) {
    for needle in needles {
        if let Some(line) = log.lines().find(|l| l.contains(needle.as_str())) {
            panic!("the log holds {needle:?}: {line}");
        }
    }
}

/// A free port on 127.0.0.1 (bound and released; good enough for a test).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

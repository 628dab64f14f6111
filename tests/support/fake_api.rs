//! A fake Telegram Bot API server on 127.0.0.1 (an ephemeral port), for tests.
//!
//! It serves queued updates through `getUpdates` (honouring `offset`, `limit`, and the long-poll
//! `timeout`, capped short so tests stay fast), records every call, and answers `getMe`,
//! `sendMessage`, `answerCallbackQuery`, `setMyCommands`, `setWebhook` (recording the secret),
//! `deleteWebhook`, `getWebhookInfo`, `deleteMessage` and `deleteMessages` (recording what was
//! deleted in which chat; more than 100 ids is refused, as Telegram does) and `getFile`
//! (recorded so a test can prove it never happens). Faults can be queued per method: a 429 with
//! `retry_after`, a connection dropped before the request is processed (so a retry is the right
//! answer), or a refusal (400).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// The bot token the fake accepts. Distinctive, so a test can search logs for it.
pub const TOKEN: &str = "4242424242:AAFakeTokenSECRETxyzzy0123456789abcde";
/// The bot's user id (the part of the token before the colon).
pub const BOT_ID: i64 = 4242424242;
/// The bot's username.
pub const BOT_USERNAME: &str = "safeguard_test_bot";

/// The longest a `getUpdates` long poll is held, whatever timeout the bot asks for.
const MAX_POLL: Duration = Duration::from_millis(500);

/// A failure to serve instead of the next call of a method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 429 with `parameters.retry_after` in seconds.
    RetryAfter(u32),
    /// The connection breaks before a response arrives; the request is not processed.
    Drop,
    /// HTTP 400 with a description Telegram might give; not worth retrying.
    Refuse,
    /// Served as usual, after this long.
    Slow(Duration),
    /// Carried out at once (a message is sent), answered only after this long: a caller that
    /// gives up waiting has had its message delivered all the same.
    Late(Duration),
    /// Carried out (a message is sent), then the connection breaks before the answer: the bot
    /// cannot tell it from [`Fault::Drop`], and a retry sends the message twice.
    Lost,
}

/// One request the bot made.
#[derive(Clone, Debug)]
pub struct Call {
    /// The Bot API method, in lower case.
    pub method: String,
    /// Its JSON body.
    pub body: Value,
    /// When it arrived.
    pub at: Instant,
    /// Whether a fault was served instead of an answer.
    pub faulted: bool,
}

/// A message the bot sent (a processed `sendMessage`).
#[derive(Clone, Debug)]
pub struct Sent {
    /// Target chat.
    pub chat_id: i64,
    /// The id the fake gave the message.
    pub message_id: i64,
    /// The text.
    pub text: String,
    /// The whole request body (parse_mode, reply_markup, reply_parameters...).
    pub body: Value,
    /// When it arrived.
    pub at: Instant,
}

#[derive(Default)]
struct Inner {
    next_update_id: i64,
    pending: VecDeque<(i64, Value)>,
    served: HashMap<i64, Instant>,
    confirmed_offset: i64,
    calls: Vec<Call>,
    sent: Vec<Sent>,
    faults: HashMap<String, VecDeque<Fault>>,
    next_message_id: i64,
    webhook_url: Option<String>,
    webhook_secret: Option<String>,
    deleted: Vec<(i64, i64)>,
    /// Until when every call gets a broken connection (the Bot API is unreachable).
    away_until: Option<Instant>,
    /// An outage that starts with the next call of this method (lower case), and its length.
    away_on: Option<(String, Duration)>,
}

struct Shared {
    inner: Mutex<Inner>,
    new_updates: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running fake server; stops when dropped.
pub struct FakeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeApi {
    /// Start on 127.0.0.1, an ephemeral port, in the current tokio runtime.
    pub async fn start() -> Self {
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                next_update_id: 1,
                next_message_id: 1_000,
                ..Inner::default()
            }),
            new_updates: Notify::new(),
        });
        let app = Router::new()
            .route("/{token}/{method}", post(api))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            shared,
            server,
        }
    }

    /// The base URL to give the bot as `TELOXIDE_API_URL`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queue an update (without `update_id`; one is assigned and returned).
    pub fn push_update(&self, mut update: Value) -> i64 {
        let id = {
            let mut inner = self.shared.lock();
            let id = inner.next_update_id;
            inner.next_update_id += 1;
            update["update_id"] = json!(id);
            inner.pending.push_back((id, update));
            id
        };
        self.shared.new_updates.notify_waiters();
        id
    }

    /// Break the connection of every call for the next `time`, as if the Bot API had gone
    /// away; it comes back by itself.
    pub fn go_away(&self, time: Duration) {
        self.shared.lock().away_until = Some(Instant::now() + time);
    }

    /// Go away as [`FakeApi::go_away`] does, from the next call of `method` (any case) on,
    /// that call included: an outage that starts exactly when the bot first needs the API.
    pub fn go_away_on(&self, method: &str, time: Duration) {
        self.shared.lock().away_on = Some((method.to_ascii_lowercase(), time));
    }

    /// Serve `fault` instead of the next unfaulted call of `method` (any case).
    pub fn inject(&self, method: &str, fault: Fault) {
        self.shared
            .lock()
            .faults
            .entry(method.to_ascii_lowercase())
            .or_default()
            .push_back(fault);
    }

    /// How many faults are still waiting for calls of `method` (any case).
    pub fn faults_left_for(&self, method: &str) -> usize {
        self.shared
            .lock()
            .faults
            .get(&method.to_ascii_lowercase())
            .map_or(0, VecDeque::len)
    }

    /// Every call of `method` (any case), in order.
    pub fn calls(&self, method: &str) -> Vec<Call> {
        self.shared
            .lock()
            .calls
            .iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method))
            .cloned()
            .collect()
    }

    /// Every call, in order.
    pub fn all_calls(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    /// Every message sent, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.shared.lock().sent.clone()
    }

    /// How many messages the bot has sent (cheap: for waiting on many).
    pub fn sent_count(&self) -> usize {
        self.shared.lock().sent.len()
    }

    /// Messages sent to `chat`, in order.
    pub fn sent_to(&self, chat: i64) -> Vec<Sent> {
        self.sent()
            .into_iter()
            .filter(|s| s.chat_id == chat)
            .collect()
    }

    /// The highest offset the bot has confirmed (every update below it is forgotten).
    pub fn confirmed_offset(&self) -> i64 {
        self.shared.lock().confirmed_offset
    }

    /// When each update was first handed to the bot by `getUpdates`.
    pub fn served(&self) -> HashMap<i64, Instant> {
        self.shared.lock().served.clone()
    }

    /// Every message deleted, as `(chat, message id)`, in the order asked.
    pub fn deleted(&self) -> Vec<(i64, i64)> {
        self.shared.lock().deleted.clone()
    }

    /// The ids of the messages deleted in `chat`, sorted.
    pub fn deleted_in(&self, chat: i64) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .deleted()
            .into_iter()
            .filter(|(c, _)| *c == chat)
            .map(|(_, id)| id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// The secret the bot registered with `setWebhook`, if it did.
    pub fn webhook_secret(&self) -> Option<String> {
        self.shared.lock().webhook_secret.clone()
    }

    /// Faults queued and not yet served.
    pub fn faults_left(&self) -> usize {
        self.shared.lock().faults.values().map(VecDeque::len).sum()
    }

    /// Wait until `done` holds, checking every 10 ms; false if `timeout` passes first.
    pub async fn wait_until(&self, timeout: Duration, done: impl Fn(&FakeApi) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if done(self) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn api(
    State(shared): State<Arc<Shared>>,
    Path((token, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if token != format!("bot{TOKEN}") {
        return error(StatusCode::UNAUTHORIZED, "Unauthorized", None);
    }
    // Method names are case-insensitive (teloxide sends `GetMe`); the fake keys them in lower case.
    let method = method.to_ascii_lowercase();
    let body = parse_body(&headers, &body);
    let fault = {
        let mut inner = shared.lock();
        if inner.away_on.as_ref().is_some_and(|(m, _)| *m == method) {
            let (_, time) = inner.away_on.take().expect("checked");
            inner.away_until = Some(Instant::now() + time);
        }
        let away = inner.away_until.is_some_and(|until| Instant::now() < until);
        let fault = if away {
            Some(Fault::Drop)
        } else {
            inner.faults.get_mut(&method).and_then(VecDeque::pop_front)
        };
        inner.calls.push(Call {
            method: method.clone(),
            body: body.clone(),
            at: Instant::now(),
            faulted: fault.is_some(),
        });
        fault
    };
    match fault {
        Some(Fault::RetryAfter(seconds)) => {
            return error(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Too Many Requests: retry after {seconds}"),
                Some(json!({ "retry_after": seconds })),
            )
        }
        Some(Fault::Drop) => return dropped_connection(),
        Some(Fault::Refuse) => {
            return error(
                StatusCode::BAD_REQUEST,
                "Bad Request: refused by the fake",
                None,
            )
        }
        Some(Fault::Slow(time)) => tokio::time::sleep(time).await,
        Some(Fault::Late(time)) => {
            let response = answer(&shared, &method, body).await;
            tokio::time::sleep(time).await;
            return response;
        }
        Some(Fault::Lost) => {
            let _ = answer(&shared, &method, body).await;
            return dropped_connection();
        }
        None => {}
    }
    answer(&shared, &method, body).await
}

/// Carry out `method` and answer as the Bot API would.
async fn answer(shared: &Shared, method: &str, body: Value) -> Response {
    match method {
        "getupdates" => get_updates(shared, &body).await,
        "getme" => ok(me()),
        "sendmessage" => ok(send_message(shared, body)),
        "setwebhook" => {
            let mut inner = shared.lock();
            inner.webhook_url = body["url"].as_str().map(str::to_owned);
            inner.webhook_secret = body["secret_token"].as_str().map(str::to_owned);
            ok(json!(true))
        }
        "deletewebhook" => {
            shared.lock().webhook_url = None;
            ok(json!(true))
        }
        "getwebhookinfo" => {
            let url = shared.lock().webhook_url.clone().unwrap_or_default();
            ok(json!({ "url": url, "has_custom_certificate": false, "pending_update_count": 0 }))
        }
        "deletemessage" | "deletemessages" => delete_messages(shared, &body),
        "answercallbackquery" | "setmycommands" => ok(json!(true)),
        "getfile" => ok(json!({
            "file_id": body["file_id"], "file_unique_id": "unique", "file_size": 1, "file_path": "photos/file_0.jpg"
        })),
        _ => error(
            StatusCode::BAD_REQUEST,
            "Bad Request: the fake Bot API does not implement this method",
            None,
        ),
    }
}

/// A request body as JSON: JSON as is; `multipart/form-data` (teloxide sends `setWebhook` so,
/// for its optional certificate) as an object of its fields, each parsed as JSON if it is.
fn parse_body(headers: &HeaderMap, body: &[u8]) -> Value {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(boundary) = content_type.split("boundary=").nth(1) else {
        return serde_json::from_slice(body).unwrap_or(Value::Null);
    };
    let text = String::from_utf8_lossy(body);
    let mut fields = serde_json::Map::new();
    for part in text.split(&format!("--{}", boundary.trim_matches('"'))) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|n| n.split('"').next())
        else {
            continue;
        };
        let value = value.trim_end_matches("\r\n");
        let parsed =
            serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        fields.insert(name.to_owned(), parsed);
    }
    Value::Object(fields)
}

/// Long poll: forget what the offset confirms, then hand out up to `limit` pending updates,
/// waiting up to the (capped) timeout for some to arrive.
async fn get_updates(shared: &Shared, body: &Value) -> Response {
    let offset = body["offset"].as_i64().unwrap_or(0);
    let limit = body["limit"].as_u64().unwrap_or(100).clamp(1, 100) as usize;
    let wait = Duration::from_secs(body["timeout"].as_u64().unwrap_or(0)).min(MAX_POLL);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let notified = shared.new_updates.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let mut inner = shared.lock();
            if offset > 0 {
                inner.pending.retain(|(id, _)| *id >= offset);
                inner.confirmed_offset = inner.confirmed_offset.max(offset);
            }
            let batch: Vec<(i64, Value)> = inner.pending.iter().take(limit).cloned().collect();
            if !batch.is_empty() || tokio::time::Instant::now() >= deadline {
                let now = Instant::now();
                for (id, _) in &batch {
                    inner.served.entry(*id).or_insert(now);
                }
                return ok(Value::Array(batch.into_iter().map(|(_, u)| u).collect()));
            }
        }
        tokio::select! {
            () = &mut notified => {}
            () = tokio::time::sleep_until(deadline) => {}
        }
    }
}

/// `deleteMessage` (`message_id`) or `deleteMessages` (`message_ids`, 1 to 100 of them).
fn delete_messages(shared: &Shared, body: &Value) -> Response {
    let chat_id = body["chat_id"].as_i64().unwrap_or_default();
    let ids: Vec<i64> = match (body["message_id"].as_i64(), body["message_ids"].as_array()) {
        (Some(id), _) => vec![id],
        (None, Some(ids)) => ids.iter().filter_map(Value::as_i64).collect(),
        (None, None) => Vec::new(),
    };
    if ids.is_empty() || ids.len() > 100 {
        return error(
            StatusCode::BAD_REQUEST,
            "Bad Request: between 1 and 100 message identifiers must be specified",
            None,
        );
    }
    let mut inner = shared.lock();
    inner
        .deleted
        .extend(ids.into_iter().map(|id| (chat_id, id)));
    ok(json!(true))
}

fn send_message(shared: &Shared, body: Value) -> Value {
    let chat_id = body["chat_id"].as_i64().unwrap_or_default();
    let text = body["text"].as_str().unwrap_or_default().to_owned();
    let mut inner = shared.lock();
    let message_id = inner.next_message_id;
    inner.next_message_id += 1;
    inner.sent.push(Sent {
        chat_id,
        message_id,
        text: text.clone(),
        body,
        at: Instant::now(),
    });
    let chat = if chat_id < 0 {
        json!({ "id": chat_id, "type": "supergroup", "title": "group" })
    } else {
        json!({ "id": chat_id, "type": "private" })
    };
    json!({
        "message_id": message_id,
        "date": 1_700_000_000,
        "chat": chat,
        "from": bot_user(),
        "text": text,
    })
}

/// The bot as a `User`.
pub fn bot_user() -> Value {
    json!({ "id": BOT_ID, "is_bot": true, "first_name": "Safeguard", "username": BOT_USERNAME })
}

fn me() -> Value {
    let mut me = bot_user();
    me["can_join_groups"] = json!(true);
    me["can_read_all_group_messages"] = json!(false);
    me["supports_inline_queries"] = json!(false);
    me["can_connect_to_business"] = json!(false);
    me["has_main_web_app"] = json!(false);
    me
}

fn ok(result: Value) -> Response {
    axum::Json(json!({ "ok": true, "result": result })).into_response()
}

fn error(status: StatusCode, description: &str, parameters: Option<Value>) -> Response {
    let mut body =
        json!({ "ok": false, "error_code": status.as_u16(), "description": description });
    if let Some(parameters) = parameters {
        body["parameters"] = parameters;
    }
    (status, axum::Json(body)).into_response()
}

/// A response whose body fails at once: hyper aborts the connection, and the client sees it
/// drop before a complete answer.
fn dropped_connection() -> Response {
    let failing = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("connection dropped by the fake"))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(Body::from_stream(failing))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

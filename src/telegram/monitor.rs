//! What an operator's monitoring reads: `GET /metrics` (Prometheus text) and `GET /healthz`.
//!
//! In webhook mode both routes are on the webhook listener ([`super::webhook::router`]); with
//! `--metrics-listen ADDR` (either mode, and the only way in polling mode) they are also served
//! on an address of their own, which can stay on the private network. The counters hold no
//! personal data ([`crate::telegram::metrics`]), so a scrape can identify nobody.
//!
//! The server is the webhook's hand-driven hyper server ([`super::webhook::serve`]), with the
//! same header timeout, connection cap and graceful stop.

use std::net::SocketAddr;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

use crate::telegram::metrics::Metrics;
use crate::telegram::signals::Stop;
use crate::telegram::webhook::{self, Limits, HEALTH_PATH};
use crate::telegram::Error;

/// The path Prometheus scrapes.
pub(crate) const METRICS_PATH: &str = "/metrics";

/// `GET /metrics` and `GET /healthz` for `metrics`.
pub fn router(metrics: Metrics) -> Router {
    Router::new()
        .route(METRICS_PATH, get(scrape))
        .route(HEALTH_PATH, get(healthz))
        .with_state(metrics)
}

async fn scrape(State(metrics): State<Metrics>) -> impl IntoResponse {
    ([(CONTENT_TYPE, Metrics::content_type())], metrics.render())
}

async fn healthz() -> &'static str {
    "ok"
}

/// Bind `addr` for the metrics listener, or say why not in one line.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, Error> {
    TcpListener::bind(addr).await.map_err(|e| {
        Error(format!(
            "cannot listen on {addr} for metrics (--metrics-listen): {e}"
        ))
    })
}

/// Serve [`router`] on `listener` until `stop`.
pub async fn serve(listener: TcpListener, metrics: Metrics, stop: Stop) {
    if let Ok(addr) = listener.local_addr() {
        log::info!("serving {METRICS_PATH} and {HEALTH_PATH} on {addr}");
    }
    webhook::serve(listener, router(metrics), Limits::default(), stop).await;
}

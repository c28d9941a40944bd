//! The load generator: keep-alive HTTP/1.1 connections (plain, or TLS as
//! Telegram connects to a telegate that terminates TLS itself), each posting
//! one update after another, the update_id unique across all of them.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use http_body_util::{BodyExt, Empty, Full};
use hyper::{
    Request, StatusCode,
    body::{Body, Bytes},
    client::conn::http1::{self, SendRequest},
    header,
};
use hyper_util::rt::TokioIo;
use tokio::{net::TcpStream, task::JoinSet};
use tokio_rustls::{
    TlsConnector,
    rustls::{
        ClientConfig, RootCertStore,
        pki_types::{CertificateDer, ServerName, pem::PemObject},
    },
};

pub const WEBHOOK_PATH: &str = "/telegram/webhook";
/// The bot owner: an edited message from them is stored, handled and
/// recorded, but answered with nothing, so the outbox stays empty.
pub const OWNER_ID: i64 = 10001;

/// How the connections are made.
#[derive(Clone)]
pub enum Transport {
    Plain,
    /// TLS, trusting only the certificate authority it was made with.
    Tls(TlsConnector),
}

impl Transport {
    /// TLS that trusts the CA certificate in the PEM file `ca`.
    pub fn tls_trusting(ca: &std::path::Path) -> anyhow::Result<Self> {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca)? {
            roots.add(cert?)?;
        }
        let config = ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self::Tls(TlsConnector::from(Arc::new(config))))
    }

    /// An HTTP/1.1 connection to `addr`.
    async fn open<B>(&self, addr: SocketAddr) -> anyhow::Result<SendRequest<B>>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("cannot connect to {addr}"))?;
        stream.set_nodelay(true)?;
        match self {
            Self::Plain => {
                let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
                tokio::spawn(conn);
                Ok(sender)
            }
            Self::Tls(connector) => {
                let name = ServerName::IpAddress(addr.ip().into());
                let stream = connector.connect(name, stream).await?;
                let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
                tokio::spawn(conn);
                Ok(sender)
            }
        }
    }
}

/// One run against one server.
pub struct Load {
    pub addr: SocketAddr,
    pub transport: Transport,
    pub connections: usize,
    pub warmup: Duration,
    pub measure: Duration,
    pub secret: Arc<str>,
    pub next_update_id: Arc<AtomicI64>,
}

/// What a run measured.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Latency of every request answered in the measured phase, sorted.
    pub latencies: Vec<Duration>,
    /// 200 answers in the measured phase.
    pub ok: u64,
    /// Non-200 answers and failed requests in the measured phase.
    pub errors: u64,
    /// 200 answers over the whole run, warm-up included.
    pub ok_total: u64,
    /// Non-200 answers and failed requests over the whole run.
    pub errors_total: u64,
    /// From the start of the measured phase until the last answer.
    pub elapsed: Duration,
}

impl Outcome {
    /// Acknowledged (200) requests per second in the measured phase.
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency at quantile `q` (0..=1), in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = (q * self.latencies.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.latencies.len()) - 1;
        self.latencies[index].as_secs_f64() * 1e3
    }

    fn add(&mut self, other: Outcome) {
        self.latencies.extend(other.latencies);
        self.ok += other.ok;
        self.errors += other.errors;
        self.ok_total += other.ok_total;
        self.errors_total += other.errors_total;
    }
}

impl Load {
    /// Opens the connections, warms up, then measures.
    pub async fn run(&self) -> anyhow::Result<Outcome> {
        let measure_from = Instant::now() + self.warmup;
        let until = measure_from + self.measure;
        let mut tasks = JoinSet::new();
        for _ in 0..self.connections {
            let (addr, secret, ids) = (self.addr, self.secret.clone(), self.next_update_id.clone());
            let transport = self.transport.clone();
            tasks.spawn(connection(
                addr,
                transport,
                secret,
                ids,
                measure_from,
                until,
            ));
        }
        let mut outcome = Outcome::default();
        while let Some(done) = tasks.join_next().await {
            outcome.add(done??);
        }
        outcome.elapsed = measure_from.elapsed();
        outcome.latencies.sort_unstable();
        Ok(outcome)
    }
}

/// One keep-alive connection: posts until `until`, measuring from `measure_from`.
async fn connection(
    addr: SocketAddr,
    transport: Transport,
    secret: Arc<str>,
    ids: Arc<AtomicI64>,
    measure_from: Instant,
    until: Instant,
) -> anyhow::Result<Outcome> {
    let mut sender = transport.open(addr).await?;
    let mut outcome = Outcome::default();
    loop {
        let sent = Instant::now();
        if sent >= until {
            return Ok(outcome);
        }
        let measured = sent >= measure_from;
        let update_id = ids.fetch_add(1, Ordering::Relaxed);
        let request = Request::post(WEBHOOK_PATH)
            .header(header::HOST, addr.to_string())
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-telegram-bot-api-secret-token", &*secret)
            .body(Full::new(Bytes::from(edited_message(update_id))))?;
        let answer = exchange(&mut sender, request).await;
        let latency = sent.elapsed();
        let ok = matches!(answer, Ok((StatusCode::OK, _)));
        if ok {
            outcome.ok_total += 1;
        } else {
            outcome.errors_total += 1;
        }
        if measured {
            if ok {
                outcome.ok += 1;
            } else {
                outcome.errors += 1;
            }
            if answer.is_ok() {
                outcome.latencies.push(latency);
            }
        }
        if answer.is_err() {
            // The connection is gone; open another one.
            sender = transport.open(addr).await?;
        }
    }
}

/// A realistic update: an edited private-chat text message from the owner.
fn edited_message(update_id: i64) -> String {
    let message_id = update_id % 1_000_000 + 1;
    format!(
        r#"{{"update_id":{update_id},"edited_message":{{"message_id":{message_id},"from":{{"id":{OWNER_ID},"is_bot":false,"first_name":"Ada","last_name":"Owner","username":"ada_owner","language_code":"en"}},"chat":{{"id":{OWNER_ID},"first_name":"Ada","last_name":"Owner","username":"ada_owner","type":"private"}},"date":1795000000,"edit_date":1795000060,"text":"Reminder: the quarterly report is due on Friday, please review section 3 before then."}}}}"#
    )
}

/// Sends one request and reads the whole answer.
async fn exchange<B>(
    sender: &mut SendRequest<B>,
    request: Request<B>,
) -> anyhow::Result<(StatusCode, Bytes)>
where
    B: Body + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

/// `GET path` on a fresh connection (for /health).
pub async fn get(
    addr: SocketAddr,
    transport: &Transport,
    path: &str,
) -> anyhow::Result<(StatusCode, Bytes)> {
    let mut sender = transport.open(addr).await?;
    let request = Request::get(path)
        .header(header::HOST, addr.to_string())
        .body(Empty::<Bytes>::new())?;
    exchange(&mut sender, request).await
}

//! [`MailSink`]: a real SMTP server on `127.0.0.1:0` that the test app's notification mailer
//! talks to over TCP (EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT). Its
//! [`SinkMode`] simulates an outage (connections closed before the greeting), a busy relay
//! (`451` to MAIL), a refusal (`550` to RCPT) or a relay that has the message but has not
//! answered its `250` yet ([`SinkMode::Hold`]: the message counts as received when its final
//! dot arrives, the reply waits for [`MailSink::release`]). Tests wait for messages with a
//! bounded [`MailSink::wait_for`], never by sleeping.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How the sink answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkMode {
    Accept,
    /// Closes every connection before greeting (a relay that is down).
    Down,
    /// `451 4.3.0` to MAIL FROM.
    Busy,
    /// `550 5.1.1` to RCPT TO.
    Refuse,
    /// Records each message at its final dot but answers `250` only once the mode changes
    /// (the client cannot know the relay has it: a kill now is the window SMTP cannot close).
    Hold,
}

/// One message as received.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    /// The DATA bytes (CRLF line ends, dots unstuffed).
    pub data: Vec<u8>,
}

struct Inner {
    mode: Mutex<SinkMode>,
    mails: Mutex<Vec<ReceivedMail>>,
    arrived: tokio::sync::Notify,
    /// Recipients refused with `550`, in order.
    refused: Mutex<Vec<String>>,
    mode_changed: tokio::sync::Notify,
}

/// The running sink (stops with the test's runtime).
#[derive(Clone)]
pub struct MailSink {
    addr: SocketAddr,
    inner: Arc<Inner>,
}

impl MailSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the SMTP sink");
        let addr = listener.local_addr().expect("sink address");
        let inner = Arc::new(Inner {
            mode: Mutex::new(SinkMode::Accept),
            mails: Mutex::new(Vec::new()),
            arrived: tokio::sync::Notify::new(),
            refused: Mutex::new(Vec::new()),
            mode_changed: tokio::sync::Notify::new(),
        });
        let accept = inner.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let inner = accept.clone();
                tokio::spawn(async move {
                    let _ = session(stream, &inner).await;
                });
            }
        });
        Self { addr, inner }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn set_mode(&self, mode: SinkMode) {
        *self.inner.mode.lock().unwrap() = mode;
        self.inner.mode_changed.notify_waiters();
    }

    /// [`SinkMode::Hold`] until [`MailSink::release`].
    pub fn hold(&self) {
        self.set_mode(SinkMode::Hold);
    }

    /// Back to [`SinkMode::Accept`]: held messages get their `250` (if their client is still
    /// connected).
    pub fn release(&self) {
        self.set_mode(SinkMode::Accept);
    }

    /// Recipients refused so far (`550` to RCPT), in order.
    pub fn refused(&self) -> Vec<String> {
        self.inner.refused.lock().unwrap().clone()
    }

    /// Waits (at most `bound`) until at least `n` recipients were refused.
    pub async fn wait_for_refusals(&self, n: usize, bound: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + bound;
        loop {
            let arrived = self.inner.arrived.notified();
            let now = self.refused();
            if now.len() >= n {
                return now;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!(
                    "the SMTP sink refused {} recipients, expected {n}",
                    now.len()
                );
            }
        }
    }

    /// Every message received so far, in arrival order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.inner.mails.lock().unwrap().clone()
    }

    /// Waits (at most 10 s) until at least `n` messages arrived; returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<ReceivedMail> {
        self.wait_for_within(n, Duration::from_secs(10)).await
    }

    /// Waits (at most `bound`) until at least `n` messages arrived; returns them all.
    pub async fn wait_for_within(&self, n: usize, bound: Duration) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + bound;
        loop {
            let arrived = self.inner.arrived.notified();
            let now = self.messages();
            if now.len() >= n {
                return now;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("the SMTP sink got {} messages, expected {n}", now.len());
            }
        }
    }
}

fn mode(inner: &Inner) -> SinkMode {
    *inner.mode.lock().unwrap()
}

async fn session(stream: TcpStream, inner: &Inner) -> std::io::Result<()> {
    if mode(inner) == SinkMode::Down {
        return Ok(());
    }
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_owned();
        let verb = cmd
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 OK\r\n",
            "HELO" => b"250 sink.test\r\n",
            "MAIL" => {
                if mode(inner) == SinkMode::Busy {
                    b"451 4.3.0 mailbox busy, try again later\r\n"
                } else {
                    from = cmd.get(10..).unwrap_or("").to_owned();
                    to.clear();
                    b"250 2.1.0 OK\r\n"
                }
            }
            "RCPT" => {
                if mode(inner) == SinkMode::Refuse {
                    inner
                        .refused
                        .lock()
                        .unwrap()
                        .push(cmd.get(8..).unwrap_or("").to_owned());
                    inner.arrived.notify_waiters();
                    b"550 5.1.1 no such user here\r\n"
                } else {
                    to.push(cmd.get(8..).unwrap_or("").to_owned());
                    b"250 2.1.5 OK\r\n"
                }
            }
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = Vec::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let l = line.strip_prefix('.').unwrap_or(&line);
                    data.extend_from_slice(l.as_bytes());
                }
                inner.mails.lock().unwrap().push(ReceivedMail {
                    from: from.clone(),
                    to: std::mem::take(&mut to),
                    data,
                });
                inner.arrived.notify_waiters();
                loop {
                    let changed = inner.mode_changed.notified();
                    if mode(inner) != SinkMode::Hold {
                        break;
                    }
                    changed.await;
                }
                b"250 2.0.0 queued\r\n"
            }
            "RSET" | "NOOP" => b"250 2.0.0 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 5.5.2 command not recognised\r\n",
        };
        write.write_all(reply).await?;
    }
}

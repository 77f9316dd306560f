//! A real SMTP server for tests (mailin-embedded on a loopback port) that keeps what it receives.

use std::{
    net::{IpAddr, SocketAddr, TcpListener},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use mailin_embedded::{Handler, Response, Server, response};

/// One received message.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The envelope sender.
    pub from: String,
    /// The envelope recipients.
    pub to: Vec<String>,
    /// The raw message (headers and body).
    pub data: String,
}

/// An SMTP server on 127.0.0.1 that records every message; it runs until the process exits.
#[derive(Debug, Clone)]
pub struct SmtpSink {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
}

#[derive(Clone)]
struct Recorder {
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    current: Option<ReceivedMail>,
}

impl Handler for Recorder {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current = Some(ReceivedMail {
            from: from.to_owned(),
            to: to.to_vec(),
            data: String::new(),
        });
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(mail) = &mut self.current {
            mail.data.push_str(&String::from_utf8_lossy(buf));
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if let Some(mail) = self.current.take() {
            self.received
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push(mail);
        }
        response::OK
    }

    fn helo(&mut self, _ip: IpAddr, _domain: &str) -> Response {
        response::OK
    }
}

impl SmtpSink {
    /// Starts the sink on a free loopback port.
    pub fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let received = Arc::new(Mutex::new(Vec::new()));
        let mut server = Server::new(Recorder {
            received: received.clone(),
            current: None,
        });
        server
            .with_name("onramp-test-sink")
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            // Serves until the test process exits; a failure here shows up as missing mail.
            let _ = server.serve();
        });
        Ok(Self { addr, received })
    }

    /// The `SMTP_URL` that reaches this sink.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Everything received so far.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.received
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Waits (up to `within`) until `count` messages to `to` have arrived, and returns them.
    pub async fn wait_for(&self, to: &str, count: usize, within: Duration) -> Vec<ReceivedMail> {
        let start = Instant::now();
        loop {
            let matching: Vec<_> = self
                .messages()
                .into_iter()
                .filter(|mail| mail.to.iter().any(|r| r == to))
                .collect();
            if matching.len() >= count || start.elapsed() > within {
                return matching;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

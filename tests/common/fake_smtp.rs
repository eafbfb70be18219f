//! A small SMTP server that takes every mail and keeps it for the test to read: the relay
//! `SMTP_URL=smtp://127.0.0.1:<port>` points at (plain SMTP, no TLS or login, as a relay on
//! the same machine takes it). It speaks enough of RFC 5321 for lettre: the greeting, EHLO,
//! MAIL, RCPT, DATA (with dot-stuffing undone), RSET, NOOP and QUIT.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A mail as the server took it.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body, as sent.
    pub data: String,
}

impl Received {
    /// The first `http(s)://` address in the mail.
    pub fn link(&self) -> Option<String> {
        self.data
            .split_whitespace()
            .find(|word| word.starts_with("http://") || word.starts_with("https://"))
            .map(str::to_owned)
    }
}

#[derive(Clone)]
pub struct FakeSmtp {
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

impl FakeSmtp {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let kept = received.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, kept.clone()));
            }
        });
        Self { port, received }
    }

    /// What `SMTP_URL` is set to.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn session(stream: tokio::net::TcpStream, kept: Arc<Mutex<Vec<Received>>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut reply = async |text: &str| write.write_all(format!("{text}\r\n").as_bytes()).await;
    if reply("220 fake.smtp ESMTP").await.is_err() {
        return;
    }
    let mut mail = Received {
        from: String::new(),
        to: Vec::new(),
        data: String::new(),
    };
    while let Ok(Some(line)) = lines.next_line().await {
        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
        let answer = match verb.as_str() {
            "EHLO" => "250-fake.smtp\r\n250 8BITMIME",
            "HELO" | "NOOP" => "250 OK",
            "MAIL" => {
                mail.from = address(&line);
                "250 OK"
            }
            "RCPT" => {
                mail.to.push(address(&line));
                "250 OK"
            }
            "DATA" => {
                if reply("354 End data with <CR><LF>.<CR><LF>").await.is_err() {
                    return;
                }
                let mut data = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if line == "." {
                        break;
                    }
                    data.push(line.strip_prefix('.').map_or(line.clone(), str::to_owned));
                }
                mail.data = data.join("\n");
                kept.lock().unwrap().push(mail.clone());
                mail.to.clear();
                "250 OK: queued"
            }
            "RSET" => {
                mail.to.clear();
                "250 OK"
            }
            "QUIT" => {
                let _ = reply("221 Bye").await;
                return;
            }
            _ => "502 Command not implemented",
        };
        if reply(answer).await.is_err() {
            return;
        }
    }
}

/// The address in `MAIL FROM:<…>` or `RCPT TO:<…>`.
fn address(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line.rfind('>').unwrap_or(line.len());
    line[start..end.max(start)].to_owned()
}

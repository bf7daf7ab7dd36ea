//! Mail to people. The outbox (storage) keeps every message as queued, for plan staff to see on
//! `/plan/outbox`; a message carrying a one-time link (an activation link) is kept there with the
//! link masked, and the link goes only to the transport, right after the change it announces is
//! committed. Nothing that stores or shows mail ever holds a live token.
//!
//! There is no SMTP transport yet: `portal serve` drops each message as `<data_dir>/mail/*.eml`
//! (directory 0700, files 0600: the operator's to read and forward).

use chrono::Utc;
use std::path::PathBuf;
use std::sync::Mutex;

/// What the outbox shows in place of a one-time link.
pub const MASKED: &str = "[link sent to the recipient only]";

/// A message as its recipient gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Where letters go.
pub enum Transport {
    /// Nowhere (in-process tests that do not read mail); a letter with a link is logged as
    /// undelivered.
    None,
    /// One `.eml` file per letter in this directory, readable by the owner only.
    Dir(PathBuf),
    /// Kept in memory, for tests.
    Memory(Mutex<Vec<Letter>>),
}

impl Transport {
    /// Sends `letter`; `Ok(false)` when there is no transport.
    pub async fn send(&self, outbox_id: i64, letter: &Letter) -> std::io::Result<bool> {
        match self {
            Transport::None => Ok(false),
            Transport::Memory(m) => {
                m.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(letter.clone());
                Ok(true)
            }
            Transport::Dir(dir) => {
                let dir = dir.clone();
                let text = eml(letter);
                tokio::task::spawn_blocking(move || write_private(&dir, outbox_id, &text))
                    .await
                    .map_err(std::io::Error::other)??;
                Ok(true)
            }
        }
    }

    /// Letters kept by a `Memory` transport.
    pub fn sent(&self) -> Vec<Letter> {
        match self {
            Transport::Memory(m) => m.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            _ => Vec::new(),
        }
    }
}

/// Hands messages already queued in the outbox (plan alerts) to the transport and marks each
/// sent. What they announce is already committed: a failure is logged, never shown.
pub(crate) async fn deliver_queued(state: &crate::AppState, queued: &[(i64, storage::NewMessage)]) {
    for (id, m) in queued {
        let letter = Letter {
            to: m.to_addr.clone(),
            subject: m.subject.clone(),
            body: m.body.clone(),
        };
        match state.mail.send(*id, &letter).await {
            Ok(true) => {
                if let Err(e) = state.store.mark_sent(*id, Utc::now()).await {
                    tracing::warn!(error = %e, message = id, "mail sent but not marked sent");
                }
            }
            // No transport: the message waits in the outbox, where plan staff read it.
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, message = id, "mail delivery failed"),
        }
    }
}

/// One header value on one line (addresses come from a form).
fn header(v: &str) -> String {
    v.chars().filter(|c| !c.is_control()).collect()
}

fn eml(l: &Letter) -> String {
    format!(
        "Date: {}\r\nTo: {}\r\nSubject: {}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}",
        Utc::now().to_rfc2822(),
        header(&l.to),
        header(&l.subject),
        l.body.replace("\r\n", "\n").replace('\n', "\r\n"),
    )
}

fn write_private(dir: &std::path::Path, id: i64, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
        builder.mode(0o700);
        open.mode(0o600);
    }
    builder.create(dir)?;
    let name = format!("{}-{id}.eml", Utc::now().format("%Y%m%dT%H%M%S%.3fZ"));
    open.open(dir.join(name))?.write_all(text.as_bytes())
}

/// `body` with every `/activate/<token>` link masked: what may be stored and shown. (Also applied
/// when the outbox is shown, for anything queued before links were masked at the source.)
pub fn mask_links(body: &str) -> String {
    const AT: &str = "/activate/";
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(i) = rest.find(AT) {
        let (before, after) = rest.split_at(i + AT.len());
        out.push_str(before);
        let token_len = after
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(after.len());
        if token_len > 0 {
            out.push_str(MASKED);
        }
        rest = &after[token_len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_masked_and_nothing_else_changes() {
        let token = "ab".repeat(32);
        let body = format!("Set it here:\nhttps://p.org/activate/{token}\n\nThen sign in.");
        let masked = mask_links(&body);
        assert!(!masked.contains(&token), "{masked}");
        assert_eq!(
            masked,
            format!("Set it here:\nhttps://p.org/activate/{MASKED}\n\nThen sign in.")
        );
        assert_eq!(mask_links("no link"), "no link");
        assert_eq!(mask_links(&masked), masked, "masking twice changes nothing");
    }

    #[test]
    fn eml_headers_stay_on_one_line() {
        let e = eml(&Letter {
            to: "a@b.org\r\nBcc: evil@x.org".into(),
            subject: "Hi".into(),
            body: "line\nline".into(),
        });
        assert!(e.contains("To: a@b.orgBcc: evil@x.org\r\n"), "{e}");
        assert!(e.ends_with("line\r\nline"));
    }

    #[tokio::test]
    async fn dir_transport_writes_owner_only_files() {
        let dir = tempfile::tempdir().unwrap();
        let mail = dir.path().join("mail");
        let t = Transport::Dir(mail.clone());
        let l = Letter {
            to: "a@b.org".into(),
            subject: "s".into(),
            body: "b".into(),
        };
        assert!(t.send(7, &l).await.unwrap());
        let files: Vec<_> = std::fs::read_dir(&mail).unwrap().collect();
        assert_eq!(files.len(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let f = files[0].as_ref().unwrap().path();
            assert_eq!(
                std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(
                std::fs::metadata(&mail).unwrap().permissions().mode() & 0o777,
                0o700
            );
        }
    }
}

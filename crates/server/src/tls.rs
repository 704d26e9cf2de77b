//! TLS termination (`[http.tls]`, contract §6.3): rustls on the `ring` provider, HTTP/1.1 over
//! ALPN, and a certificate that can be replaced while the server runs.
//!
//! [`ReloadingCert`] is the server's `ResolvesServerCert`: every handshake takes the current
//! certified key (one `Arc` clone under a read lock). [`ReloadingCert::reload`] reads the
//! certificate chain and key files again, checks them (PEM blocks present, the key supported
//! and matching the leaf certificate) and only then swaps them in, atomically for every later
//! handshake; connections already open keep the certificate they were set up with. A file that
//! does not load leaves the old certificate in force (the caller logs the error). `slotbook
//! serve` reloads on SIGHUP ([`reload_on_sighup`]).

use anyhow::{Context as _, bail};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// The `ring` provider every TLS object of the server is built with.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificate chain and private key files (`http.tls.cert_path`, `http.tls.key_path`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPaths {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Reads and checks the pair: a clear error naming the key and the file on any problem.
pub fn load_certified_key(paths: &TlsPaths) -> anyhow::Result<CertifiedKey> {
    let certs = read_certs(&paths.cert)?;
    let key = read_key(&paths.key)?;
    let signing = provider()
        .key_provider
        .load_private_key(key)
        .map_err(|e| {
            anyhow::anyhow!(
                "http.tls.key_path: '{}' holds a key rustls cannot use ({e}); use an RSA, ECDSA P-256/P-384 or Ed25519 key in PEM",
                paths.key.display()
            )
        })?;
    let certified = CertifiedKey::new(certs, signing);
    certified.keys_match().map_err(|e| {
        anyhow::anyhow!(
            "http.tls: the key in '{}' does not belong to the first certificate in '{}' ({e})",
            paths.key.display(),
            paths.cert.display()
        )
    })?;
    Ok(certified)
}

fn read_file(key: &str, path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("{key}: cannot read '{}'", path.display()))
}

fn read_certs(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let pem = read_file("http.tls.cert_path", path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            anyhow::anyhow!(
                "http.tls.cert_path: '{}' is not valid PEM ({e})",
                path.display()
            )
        })?;
    if certs.is_empty() {
        bail!(
            "http.tls.cert_path: '{}' holds no `-----BEGIN CERTIFICATE-----` block; give the PEM certificate chain, leaf first",
            path.display()
        );
    }
    Ok(certs)
}

fn read_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    let pem = read_file("http.tls.key_path", path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        anyhow::anyhow!(
            "http.tls.key_path: '{}' holds no usable PEM private key ({e}); give a `PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY` block",
            path.display()
        )
    })
}

/// The server's certificate resolver: the current certified key, swapped by [`Self::reload`].
#[derive(Debug)]
pub struct ReloadingCert {
    paths: TlsPaths,
    current: RwLock<Arc<CertifiedKey>>,
}

impl ReloadingCert {
    /// Loads the files once; an error here stops the start-up.
    pub fn load(paths: TlsPaths) -> anyhow::Result<Self> {
        let key = load_certified_key(&paths)?;
        Ok(Self {
            paths,
            current: RwLock::new(Arc::new(key)),
        })
    }

    /// Reads the files again and swaps the new pair in; on error the old pair stays.
    pub fn reload(&self) -> anyhow::Result<()> {
        let key = Arc::new(load_certified_key(&self.paths)?);
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = key;
        Ok(())
    }

    /// The certified key new handshakes get.
    pub fn current(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// The acceptor of the listener: TLS 1.2 and 1.3, no client certificates, ALPN `http/1.1`.
pub fn acceptor(cert: Arc<ReloadingCert>) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("building the TLS configuration")?
        .with_no_client_auth()
        .with_cert_resolver(cert);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Reloads `cert` at every SIGHUP, for the life of the process: success is logged at `info`,
/// a failure at `error` with the old certificate kept. Counted in
/// `slotbook_tls_reloads_total{result="ok"|"error"}`.
#[cfg(unix)]
pub fn reload_on_sighup(cert: Arc<ReloadingCert>) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup()).context("listening for SIGHUP")?;
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            match cert.reload() {
                Ok(()) => {
                    metrics::counter!("slotbook_tls_reloads_total", "result" => "ok").increment(1);
                    tracing::info!(cert = %cert.paths.cert.display(), "SIGHUP: TLS certificate reloaded");
                }
                Err(e) => {
                    metrics::counter!("slotbook_tls_reloads_total", "result" => "error")
                        .increment(1);
                    tracing::error!(error = %format!("{e:#}"), "SIGHUP: TLS certificate reload failed; the previous certificate stays in use");
                }
            }
        }
    });
    Ok(())
}

#[cfg(not(unix))]
pub fn reload_on_sighup(_cert: Arc<ReloadingCert>) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    struct Dir(PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn dir() -> Dir {
        let d = std::env::temp_dir().join(format!("slotbook-tls-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }

    /// A self-signed `localhost` pair written to `dir`; returns the leaf DER.
    fn write_pair(dir: &Path) -> (TlsPaths, Vec<u8>) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let paths = TlsPaths {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::write(&paths.cert, cert.pem()).unwrap();
        std::fs::write(&paths.key, key.serialize_pem()).unwrap();
        (paths, cert.der().to_vec())
    }

    fn leaf(c: &ReloadingCert) -> Vec<u8> {
        c.current().end_entity_cert().unwrap().to_vec()
    }

    #[test]
    fn reload_swaps_a_good_pair_and_keeps_the_old_one_on_a_bad_one() {
        let d = dir();
        let (paths, first) = write_pair(&d.0);
        let cert = ReloadingCert::load(paths.clone()).unwrap();
        assert_eq!(leaf(&cert), first);

        std::fs::write(&paths.cert, "not a certificate").unwrap();
        let err = format!("{:#}", cert.reload().unwrap_err());
        assert!(err.contains("http.tls.cert_path"), "{err}");
        assert_eq!(leaf(&cert), first, "a bad file keeps the old certificate");

        let (_, second) = write_pair(&d.0);
        cert.reload().unwrap();
        assert_eq!(leaf(&cert), second);
        assert_ne!(first, second);
    }

    #[test]
    fn start_up_errors_name_the_key_and_the_file() {
        let d = dir();
        let (paths, _) = write_pair(&d.0);
        let missing = TlsPaths {
            cert: d.0.join("absent.pem"),
            key: paths.key.clone(),
        };
        let err = format!("{:#}", ReloadingCert::load(missing).unwrap_err());
        assert!(
            err.contains("http.tls.cert_path") && err.contains("absent.pem"),
            "{err}"
        );

        let no_key = d.0.join("empty.pem");
        std::fs::write(&no_key, "-----BEGIN NOTHING-----\n-----END NOTHING-----\n").unwrap();
        let bad_key = TlsPaths {
            cert: paths.cert.clone(),
            key: no_key,
        };
        let err = format!("{:#}", ReloadingCert::load(bad_key).unwrap_err());
        assert!(err.contains("http.tls.key_path"), "{err}");

        // A valid key that is not the certificate's.
        let other = d.0.join("other-key.pem");
        std::fs::write(&other, rcgen::KeyPair::generate().unwrap().serialize_pem()).unwrap();
        let mismatched = TlsPaths {
            cert: paths.cert,
            key: other,
        };
        let err = format!("{:#}", ReloadingCert::load(mismatched).unwrap_err());
        assert!(err.contains("does not belong"), "{err}");
    }
}

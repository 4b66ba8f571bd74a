//! A scenario's certificate authority and the certificates it signs for the fake servers:
//! valid, expired, for the wrong name, or self-signed, as the scenario asks, dated around the
//! story's start (or the real now under `serve`).
//!
//! Keys are random (rcgen); nothing derived from them ever reaches a report. The checker never
//! depends on this crate: it gets a trust store.

use std::sync::Arc;

use mxlab_net::Clock;
use mxlab_scenario::model::Certificate;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use time::OffsetDateTime;

/// How long before and after the anchor a good certificate is valid.
const GOOD: (time::Duration, time::Duration) =
    (time::Duration::days(30), time::Duration::days(365));

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A scenario's certificate authority and what it signs.
pub struct TlsWorld {
    ca: CertifiedIssuer<'static, KeyPair>,
    anchor: OffsetDateTime,
}

impl std::fmt::Debug for TlsWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsWorld")
            .field("anchor", &self.anchor)
            .finish_non_exhaustive()
    }
}

impl TlsWorld {
    /// A CA whose certificates are dated around `anchor`: the story's start in a run, the
    /// real now under `serve` (real clients judge validity on the real clock).
    pub fn new(anchor: OffsetDateTime) -> Result<Self, String> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "mxlab scenario CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.not_before = anchor - time::Duration::days(3650);
        params.not_after = anchor + time::Duration::days(3650);
        let ca =
            CertifiedIssuer::self_signed(params, KeyPair::generate().map_err(err)?).map_err(err)?;
        Ok(TlsWorld { ca, anchor })
    }

    /// The CA certificate in PEM, for real clients' trust stores.
    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    fn ca_der(&self) -> CertificateDer<'static> {
        self.ca.der().clone()
    }

    /// A server configuration presenting `kind` of certificate for `host`.
    pub fn server_config(
        &self,
        host: &str,
        kind: Certificate,
    ) -> Result<Arc<ServerConfig>, String> {
        let name = match kind {
            Certificate::WrongName => "mail.elsewhere.invalid".to_string(),
            _ => host.to_string(),
        };
        let mut params = CertificateParams::new(vec![name.clone()]).map_err(err)?;
        params.distinguished_name.push(DnType::CommonName, name);
        let (before, after) = match kind {
            Certificate::Expired => (
                self.anchor - time::Duration::days(730),
                self.anchor - time::Duration::days(10),
            ),
            _ => (self.anchor - GOOD.0, self.anchor + GOOD.1),
        };
        params.not_before = before;
        params.not_after = after;
        let key = KeyPair::generate().map_err(err)?;
        let cert = match kind {
            Certificate::SelfSigned => params.self_signed(&key).map_err(err)?,
            _ => params.signed_by(&key, &self.ca).map_err(err)?,
        };
        let chain = vec![cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let config = ServerConfig::builder_with_provider(mxlab_tls::provider())
            .with_safe_default_protocol_versions()
            .map_err(err)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(err)?;
        Ok(Arc::new(config))
    }

    /// A trust store that knows this world's CA, as an administrator's knows a public one.
    pub fn trust(&self) -> Result<RootCertStore, String> {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca_der()).map_err(err)?;
        Ok(roots)
    }

    /// A client that trusts this world's CA and judges validity on `clock` (`verify`), or
    /// one that takes any certificate, as opportunistic TLS does.
    pub fn client_config(&self, clock: Clock, verify: bool) -> Result<Arc<ClientConfig>, String> {
        if verify {
            mxlab_tls::verifying_client(self.trust()?, clock)
        } else {
            mxlab_tls::opportunistic_client(clock)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mxlab_tls::{TlsAcceptor, TlsConnector, TlsFailure, failure_name, server_name};
    use time::macros::datetime;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A handshake over an in-memory pipe at story time `start`; Ok, or why it failed.
    async fn handshake(kind: Certificate, verify: bool) -> Result<(), TlsFailure> {
        let start = datetime!(2024-05-08 20:40 +1);
        let world = TlsWorld::new(start).unwrap();
        let server = TlsAcceptor::from(world.server_config("mx1.partner.test", kind).unwrap());
        let client = TlsConnector::from(
            world
                .client_config(Clock::starting_now(start, 1.0), verify)
                .unwrap(),
        );
        let (a, b) = tokio::io::duplex(64 * 1024);
        let serving = tokio::spawn(async move {
            if let Ok(mut tls) = server.accept(b).await {
                let _ = tls.write_all(b"hi").await;
                let _ = tls.shutdown().await;
            }
        });
        let result = match client
            .connect(server_name("mx1.partner.test").unwrap(), a)
            .await
        {
            Ok(mut tls) => {
                let mut buf = [0u8; 2];
                tls.read_exact(&mut buf)
                    .await
                    .map_err(|e| TlsFailure::Other(e.to_string()))?;
                Ok(())
            }
            Err(e) => Err(failure_name(&e)),
        };
        let _ = serving.await;
        result
    }

    #[tokio::test(start_paused = true)]
    async fn each_certificate_kind_fails_as_it_should() {
        assert_eq!(handshake(Certificate::Valid, true).await, Ok(()));
        assert_eq!(
            handshake(Certificate::Expired, true).await,
            Err(TlsFailure::CertificateExpired)
        );
        assert_eq!(
            handshake(Certificate::WrongName, true).await,
            Err(TlsFailure::CertificateNameMismatch)
        );
        assert_eq!(
            handshake(Certificate::SelfSigned, true).await,
            Err(TlsFailure::UnknownIssuer)
        );
        // Opportunistic TLS takes whatever it is given.
        assert_eq!(handshake(Certificate::Expired, false).await, Ok(()));
    }
}

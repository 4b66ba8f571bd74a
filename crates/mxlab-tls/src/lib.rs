//! The TLS side of a scenario's world: a CA of its own, a certificate per host as the
//! scenario asks (valid, expired, for the wrong name, self-signed), and rustls configurations
//! that judge validity on the story clock — so an "expired" certificate is expired in the
//! story, in a run replayed years later too.
//!
//! Keys are random (rcgen); nothing derived from them ever reaches a report.

use std::sync::Arc;
use std::time::Duration;

use mxlab_net::Clock;
use mxlab_scenario::model::Certificate;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::time_provider::TimeProvider;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use time::OffsetDateTime;

pub use mxlab_vocab::TlsFailure;
pub use tokio_rustls::{TlsAcceptor, TlsConnector};

/// How long before and after the anchor a good certificate is valid.
const GOOD: (time::Duration, time::Duration) =
    (time::Duration::days(30), time::Duration::days(365));

fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
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

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
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
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(err)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(err)?;
        Ok(Arc::new(config))
    }

    /// A client that trusts this world's CA and judges validity on `clock` (`verify`), or
    /// one that takes any certificate, as opportunistic TLS does.
    pub fn client_config(&self, clock: Clock, verify: bool) -> Result<Arc<ClientConfig>, String> {
        let builder = ClientConfig::builder_with_details(provider(), Arc::new(StoryTime(clock)))
            .with_safe_default_protocol_versions()
            .map_err(err)?;
        let config = if verify {
            let mut roots = RootCertStore::empty();
            roots.add(self.ca_der()).map_err(err)?;
            builder.with_root_certificates(roots).with_no_client_auth()
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider())))
                .with_no_client_auth()
        };
        Ok(Arc::new(config))
    }
}

/// The story clock as rustls' notion of now.
#[derive(Debug)]
struct StoryTime(Clock);

impl TimeProvider for StoryTime {
    fn current_time(&self) -> Option<UnixTime> {
        let secs = u64::try_from(self.0.now().unix_timestamp()).ok()?;
        Some(UnixTime::since_unix_epoch(Duration::from_secs(secs)))
    }
}

/// Opportunistic TLS: any certificate will do, but signatures are still checked.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Why a TLS handshake failed, in Exchange's words for it (`CertificateExpired`, …).
pub fn failure_name(error: &std::io::Error) -> TlsFailure {
    use rustls::CertificateError as C;
    match error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(c)) => match c {
            C::Expired | C::ExpiredContext { .. } => TlsFailure::CertificateExpired,
            C::NotValidYet | C::NotValidYetContext { .. } => TlsFailure::CertificateNotYetValid,
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                TlsFailure::CertificateNameMismatch
            }
            C::UnknownIssuer => TlsFailure::UnknownIssuer,
            other => TlsFailure::Other(format!("{other:?}")),
        },
        Some(other) => TlsFailure::Other(other.to_string()),
        None => TlsFailure::Other(error.to_string()),
    }
}

/// The client side of STARTTLS: takes the plain stream out of `stream`, shakes hands with
/// `host` within `limit` of story time, and puts the TLS stream in its place. `Err` says why
/// it failed, in the words Exchange uses (`CertificateExpired`, `Timeout`, …); the stream is
/// then unusable.
pub async fn upgrade(
    stream: &mut mxlab_net::BoxStream,
    config: Arc<ClientConfig>,
    host: &str,
    clock: &Clock,
    limit: Duration,
) -> Result<(), TlsFailure> {
    let name = server_name(host).map_err(TlsFailure::Other)?;
    let plain = std::mem::replace(stream, Box::new(tokio::io::duplex(1).0));
    match clock
        .timeout(limit, TlsConnector::from(config).connect(name, plain))
        .await
    {
        None => Err(TlsFailure::Timeout),
        Some(Err(e)) => Err(failure_name(&e)),
        Some(Ok(tls)) => {
            *stream = Box::new(tls);
            Ok(())
        }
    }
}

/// A server name for rustls from a host name.
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(host.trim_end_matches('.').to_string()).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
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

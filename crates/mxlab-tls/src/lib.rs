//! The client side of TLS, as the sending server and the checker's probe use it: rustls
//! configurations that judge validity on the story clock (so an "expired" certificate is
//! expired in the story, in a run replayed years later too), STARTTLS on any stream, and why a
//! handshake failed, as a [`TlsFailure`].
//!
//! It knows nothing of scenarios and mints no certificate: the scenario's CA and the fake
//! servers' certificates are `mxlab-ca`'s, so nothing here reaches into the checker's view.

use std::sync::Arc;
use std::time::Duration;

use mxlab_net::Clock;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::time_provider::TimeProvider;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

pub use mxlab_vocab::TlsFailure;
pub use tokio_rustls::{TlsAcceptor, TlsConnector};

/// Exactly one crypto provider (ring): two make rustls' builders panic at run time.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A client that trusts `roots` and judges validity on `clock`.
pub fn verifying_client(roots: RootCertStore, clock: Clock) -> Result<Arc<ClientConfig>, String> {
    let config = ClientConfig::builder_with_details(provider(), Arc::new(StoryTime(clock)))
        .with_safe_default_protocol_versions()
        .map_err(err)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A client that takes any certificate, as opportunistic TLS does (signatures are still
/// checked).
pub fn opportunistic_client(clock: Clock) -> Result<Arc<ClientConfig>, String> {
    let config = ClientConfig::builder_with_details(provider(), Arc::new(StoryTime(clock)))
        .with_safe_default_protocol_versions()
        .map_err(err)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider())))
        .with_no_client_auth();
    Ok(Arc::new(config))
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

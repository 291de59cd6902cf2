//! TLS for connections to other hosts: rustls, verifying the server's certificate and name
//! against the web PKI roots, or the roots of `sslrootcert` when the URL gives one.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::{Error, Result};

/// The connector for `sslmode=prefer|require|verify-ca|verify-full`.
pub fn connector(root_cert: Option<&str>) -> Result<MakeRustlsConnect> {
    let mut roots = rustls::RootCertStore::empty();
    match root_cert {
        Some(path) => {
            for cert in CertificateDer::pem_file_iter(path)
                .map_err(|e| Error::store(format!("sslrootcert {path:?}: {e}")))?
            {
                let cert = cert.map_err(|e| Error::store(format!("sslrootcert {path:?}: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| Error::store(format!("sslrootcert {path:?}: {e}")))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::store(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

//! `motcua sign …` and `motcua pki …`: signatures on PDFs from the command line, their
//! verification, the development PKI and the local remote-signing sandbox.

use crate::clock::SystemClock;
use anyhow::{Context, bail};
use clap::Subcommand;
use motcua_domain::clock::Clock;
use motcua_sign::pdf::{Appearance, SignOptions};
use motcua_sign::tsa::TsaClient;
use motcua_sign::{LocalKey, RemoteSigner, Signer, TrustStore};
use std::io::BufRead;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum SignCmd {
    /// Adds one PAdES signature to IN and writes OUT (an incremental update: earlier
    /// signatures stay valid).
    Pdf {
        input: PathBuf,
        output: PathBuf,
        /// The key: PKCS#12 (`.p12`/`.pfx`) or PEM (key and chain).
        #[arg(long, required_unless_present = "remote")]
        key: Option<PathBuf>,
        /// Reads the key's password from the first line of standard input (else the
        /// configuration's `signing.key_password`, e.g. MOTCUA_SIGNING__KEY_PASSWORD; without
        /// either, no password and then the development one are tried).
        #[arg(long)]
        password_stdin: bool,
        /// Signs through a remote signing service (its base URL) as `--user`: the signer
        /// approves on their device.
        #[arg(long, requires = "user")]
        remote: Option<String>,
        #[arg(long)]
        user: Option<String>,
        /// Adds a visible stamp (name, time, purpose) at the bottom right of the last page.
        #[arg(long)]
        visible: bool,
        /// The purpose written in the signature.
        #[arg(long, default_value = "")]
        reason: String,
        #[arg(long, default_value = "")]
        location: String,
        /// A timestamp authority (RFC 3161) to add the signing time (PAdES B-T).
        #[arg(long)]
        tsa: Option<String>,
    },
    /// Verifies every signature of FILE. Prints a line per signature, or with `--json` an array
    /// of `{"signer","valid","intact","trusted","signed_at","covers_whole_document","reason",…}`;
    /// exits with 1 when any is not valid or there is none.
    Verify {
        file: PathBuf,
        /// A trusted root (PEM or DER); repeat for several. The configuration's
        /// `signing.trust` files are trusted too.
        #[arg(long)]
        trust: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Runs the local remote-signing service (and development timestamp authority) over the
    /// keys of a folder made by `motcua pki dev-ca`.
    Sandbox {
        /// The folder of `NAME.p12` files (user NAME; `tsa` stamps time).
        #[arg(long)]
        keys: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: String,
        /// Seconds before a request approves itself.
        #[arg(long, default_value_t = 2.0)]
        delay: f64,
        /// Requests wait for `POST /v1/requests/{id}/approve` (or `/refuse`).
        #[arg(long)]
        manual: bool,
        /// Users whose requests are refused.
        #[arg(long)]
        refuse: Vec<String>,
        /// Every n-th request fails with 503 (0: never).
        #[arg(long, default_value_t = 0)]
        fail_every: u64,
    },
}

#[derive(Subcommand)]
pub enum PkiCmd {
    /// Makes a throw-away CA with officer, leader, agency-seal, RSA-officer and timestamp
    /// certificates (PKCS#12, password `motcua`, and PEM), plus an expired one and one from an
    /// untrusted CA, for the demo and the tests. Never for production.
    DevCa {
        #[arg(long)]
        out: PathBuf,
        /// The agency named in the certificates.
        #[arg(long, default_value = "UBND phường Ba Đình")]
        agency: String,
    },
}

/// Vietnam's time zone (UTC+7, no daylight saving).
fn vietnam() -> chrono::FixedOffset {
    use chrono::Offset;
    chrono::FixedOffset::east_opt(7 * 3600).unwrap_or(chrono::Utc.fix())
}

fn password(from_stdin: bool) -> anyhow::Result<Option<String>> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()));
    }
    Ok(None)
}

/// Opens a key file with the given password, or (when none is given) with none and then the
/// development password.
pub fn open_key(path: &Path, password: Option<&str>) -> anyhow::Result<LocalKey> {
    let tries: Vec<&str> = match password {
        Some(p) => vec![p],
        None => vec!["", motcua_sign::pki::DEV_PASSWORD],
    };
    let mut last = None;
    for p in tries {
        match LocalKey::from_file(path, p) {
            Ok(k) => return Ok(k),
            Err(e) => last = Some(e),
        }
    }
    match last {
        Some(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
        None => bail!("{}: no key", path.display()),
    }
}

pub async fn run(cmd: SignCmd, signing: &crate::config::SigningConfig) -> anyhow::Result<i32> {
    let trust_files = &signing.trust;
    match cmd {
        SignCmd::Pdf {
            input,
            output,
            key,
            password_stdin,
            remote,
            user,
            visible,
            reason,
            location,
            tsa,
        } => {
            let pdf = std::fs::read(&input)
                .with_context(|| format!("cannot read {}", input.display()))?;
            let signer: Box<dyn Signer> = match (remote, key) {
                (Some(base), _) => {
                    let user = user.unwrap_or_default();
                    Box::new(RemoteSigner::connect(&base, &user).await?)
                }
                (None, Some(key)) => {
                    Box::new(open_key(&key, password(password_stdin)?.as_deref())?)
                }
                (None, None) => bail!("--key or --remote is required"),
            };
            let now = SystemClock.now().with_timezone(&vietnam());
            let mut opts = SignOptions::new(now);
            opts.reason = reason;
            opts.location = location;
            if let Some(url) = tsa {
                opts.tsa = Some(TsaClient::new(&url)?);
            }
            if visible {
                let name =
                    motcua_sign::verify::common_name(&signer.chain()[0].tbs_certificate.subject);
                let stamp = motcua_pdf::stamp(
                    &name,
                    &now.format("%d/%m/%Y %H:%M").to_string(),
                    &opts.reason,
                )
                .map_err(|e| anyhow::anyhow!("stamp: {e}"))?;
                opts.appearance = Some(Appearance {
                    pdf: stamp,
                    page: None,
                    at: None,
                });
            }
            let signed = motcua_sign::sign_pdf(&pdf, signer.as_ref(), &opts).await?;
            std::fs::write(&output, &signed)
                .with_context(|| format!("cannot write {}", output.display()))?;
            println!("{} ({} bytes)", output.display(), signed.len());
            Ok(0)
        }
        SignCmd::Verify { file, trust, json } => {
            let pdf =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let mut store = TrustStore::new();
            for t in trust.iter().chain(trust_files) {
                store
                    .add_file(t)
                    .with_context(|| format!("trusted root {}", t.display()))?;
            }
            let reports = motcua_sign::verify_pdf(&pdf, &store, SystemClock.now())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&reports)?);
            } else if reports.is_empty() {
                println!("Không có chữ ký số / no signature");
            } else {
                for r in &reports {
                    println!(
                        "{}\t{}\t{}\t{}",
                        r.field,
                        r.signer,
                        r.signed_at.as_deref().unwrap_or("-"),
                        r.reason_vi
                    );
                }
            }
            Ok(if reports.is_empty() || reports.iter().any(|r| !r.valid) {
                1
            } else {
                0
            })
        }
        SignCmd::Sandbox {
            keys,
            listen,
            delay,
            manual,
            refuse,
            fail_every,
        } => {
            let config = motcua_sign::sandbox::SandboxConfig {
                approval_delay: std::time::Duration::from_secs_f64(delay.max(0.0)),
                manual,
                refuse,
                fail_every,
            };
            let sandbox = motcua_sign::sandbox::Sandbox::from_dir(
                &keys,
                motcua_sign::pki::DEV_PASSWORD,
                config,
                std::sync::Arc::new(SystemClock),
            )?;
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            println!(
                "remote-signing sandbox on http://{}",
                listener.local_addr()?
            );
            sandbox.serve(listener).await?;
            Ok(0)
        }
    }
}

/// Sets the service's signing and verification from `[signing]`; with the demo and nothing
/// configured, a development PKI under the data folder (made once).
pub fn install(svc: &motcua_service::Service, cfg: &crate::config::Config) -> anyhow::Result<()> {
    let s = &cfg.signing;
    let mut trust = TrustStore::new();
    for t in &s.trust {
        trust
            .add_file(t)
            .with_context(|| format!("signing.trust: {}", t.display()))?;
    }
    let mut keys_dir = s.keys_dir.clone();
    let mut password = s.key_password.clone();
    if cfg.demo && s.trust.is_empty() && keys_dir.is_none() {
        let dir = cfg.data_dir.join("pki");
        if !dir.join("ca.pem").exists() {
            crate::demo::write_dev_keys(&dir, SystemClock.now())?;
            tracing::info!(dir = %dir.display(), "development PKI made for the demo (never for production)");
        }
        trust.add_file(&dir.join("ca.pem"))?;
        keys_dir = Some(dir);
        password = motcua_sign::pki::DEV_PASSWORD.to_owned();
    }
    let tsa = (!s.tsa_url.is_empty())
        .then(|| TsaClient::new(&s.tsa_url))
        .transpose()?;
    let stamps = std::sync::Arc::new(motcua_pdf::TypstSlips::new());
    svc.set_pdf_signatures(std::sync::Arc::new(motcua_sign::service::Signatures {
        trust,
        keys_dir,
        password,
        remote_url: (!s.remote_url.is_empty()).then(|| s.remote_url.clone()),
        tsa,
        stamp: Some(std::sync::Arc::new(
            move |name: &str, time: &str, reason: &str| stamps.stamp(name, time, reason),
        )),
        keys: Default::default(),
    }));
    Ok(())
}

pub fn pki(cmd: PkiCmd) -> anyhow::Result<()> {
    match cmd {
        PkiCmd::DevCa { out, agency } => {
            let files = motcua_sign::pki::write_dev_ca(&out, &agency, SystemClock.now())?;
            for f in files {
                println!("{}", out.join(f).display());
            }
            Ok(())
        }
    }
}

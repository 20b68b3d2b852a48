//! `domaind extract`: prints the Metadata JSON of a saved page or a live URL, or extracts a
//! whole corpus manifest into the layout `shared/corpus/grade.py` reads.

use std::path::PathBuf;

use crate::settings::Settings;

/// Arguments of `domaind extract`.
#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// A saved HTML file, or an http(s) URL fetched through the SSRF guard.
    pub input: Option<String>,
    /// Base URL for a saved file (relative URLs resolve against it).
    #[arg(long, value_name = "BASE")]
    pub url: Option<String>,
    /// Pretty-print the JSON.
    #[arg(long)]
    pub pretty: bool,
    /// A corpus MANIFEST.json: extract every case (needs --out).
    #[arg(long, value_name = "PATH", conflicts_with = "input")]
    pub manifest: Option<PathBuf>,
    /// Output directory for --manifest.
    #[arg(long, value_name = "DIR", requires = "manifest")]
    pub out: Option<PathBuf>,
}

/// Runs the command; returns the process exit code.
pub async fn run(args: ExtractArgs, settings: Settings) -> anyhow::Result<i32> {
    let _ = (args, settings);
    anyhow::bail!("domaind extract is not implemented yet")
}

//! Quality bar on the shared page-metadata corpus: extracts every case of
//! `<shared>/corpus/MANIFEST.json` in-process, grades the outputs with `grade.py`, and asserts
//! micro-average lenient >= 97 % and every graded field >= 90 %.
//!
//! The shared directory is `$DOMAIND_SHARED_DIR`, else `<crate>/../shared`. A missing corpus or
//! a missing `python3` fails the test (it never passes silently).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use serde_json::Value;

/// Micro-average lenient percentage every run must reach.
const MIN_MICRO_LENIENT: f64 = 97.0;
/// Lenient percentage every single field must reach.
const MIN_FIELD_LENIENT: f64 = 90.0;

fn shared_dir() -> PathBuf {
    match std::env::var_os("DOMAIND_SHARED_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("shared"),
    }
}

fn percent(hits: &Value, n: &Value) -> Option<f64> {
    let (hits, n) = (hits.as_f64()?, n.as_f64()?);
    (n > 0.0).then(|| 100.0 * hits / n)
}

/// Runs grade.py on `out` and returns its JSON report.
fn grade(corpus: &Path, out: &Path) -> anyhow::Result<Value> {
    let grader = corpus.join("grade.py");
    let report = out.join("report.json");
    let run = Command::new("python3")
        .arg(&grader)
        .arg(out)
        .arg("--json")
        .arg(&report)
        .output()
        .context("cannot run python3 (it is needed to grade the corpus)")?;
    if !run.status.success() {
        bail!(
            "{} failed ({}):\n{}{}",
            grader.display(),
            run.status,
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
    }
    println!("{}", String::from_utf8_lossy(&run.stdout));
    let text = std::fs::read_to_string(&report).with_context(|| format!("grade.py wrote no {}", report.display()))?;
    serde_json::from_str(&text).context("grade.py's report is not JSON")
}

#[test]
fn corpus_meets_the_quality_bar() -> anyhow::Result<()> {
    let corpus = shared_dir().join("corpus");
    let manifest = corpus.join("MANIFEST.json");
    assert!(
        manifest.is_file() && corpus.join("grade.py").is_file(),
        "no corpus at {} (set DOMAIND_SHARED_DIR to the shared directory)",
        corpus.display()
    );
    let out = std::env::temp_dir().join(format!("domaind-corpus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let written = domaind::commands::extract::extract_manifest(&manifest, &out)?;
    assert!(written > 0, "the manifest lists no cases");

    let report = grade(&corpus, &out)?;
    assert_eq!(
        report["missing"].as_array().map(Vec::len),
        Some(0),
        "missing outputs: {}",
        report["missing"]
    );
    assert_eq!(
        report["unreadable"].as_array().map(Vec::len),
        Some(0),
        "unreadable: {}",
        report["unreadable"]
    );

    let micro = &report["micro"];
    let micro_lenient = percent(&micro["lenient"], &micro["n"]).context("report has no micro-average")?;
    let mut low = Vec::new();
    let overall = report["overall"].as_object().context("report has no per-field table")?;
    for (field, counts) in overall {
        if let Some(p) = percent(&counts["lenient"], &counts["n"]).filter(|p| *p < MIN_FIELD_LENIENT) {
            low.push(format!("{field} {p:.1}%"));
        }
    }
    let _ = std::fs::remove_dir_all(&out);
    assert!(
        micro_lenient >= MIN_MICRO_LENIENT,
        "micro-average lenient {micro_lenient:.1}% < {MIN_MICRO_LENIENT}%"
    );
    assert!(
        low.is_empty(),
        "fields below {MIN_FIELD_LENIENT}% lenient: {}",
        low.join(", ")
    );
    Ok(())
}

//! Installs the NHS.UK frontend from `assets/package-lock.json` with `npm ci` (once per target
//! directory), copies the built files the gateway serves into `OUT_DIR/nhsuk-frontend/`, and writes
//! `OUT_DIR/nhsuk_assets.rs`: the table of embedded files that `src/assets.rs` includes.
//!
//! Set `VALUED_NHSUK_FRONTEND_DIR` to an already installed `node_modules/nhsuk-frontend` to build
//! without npm (an offline or container build that installed the package in an earlier stage).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

/// The files the gateway embeds, relative to the package's `dist/nhsuk/`, and the name each is served
/// under below `/assets/`. Every image of `assets/images/` is added as `images/<name>` (the CSS
/// refers to icons there and the page head to the favicons).
const FILES: &[(&str, &str)] = &[
    ("nhsuk-frontend.min.css", "nhsuk-frontend.min.css"),
    ("nhsuk-frontend.min.js", "nhsuk-frontend.min.js"),
    ("assets/manifest.json", "manifest.json"),
];

const OVERRIDE: &str = "VALUED_NHSUK_FRONTEND_DIR";

fn main() {
    if let Err(message) = run() {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env_var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(env_var("OUT_DIR")?);
    let source = manifest_dir.join("assets");
    println!("cargo:rerun-if-changed=assets/package.json");
    println!("cargo:rerun-if-changed=assets/package-lock.json");
    println!("cargo:rerun-if-env-changed={OVERRIDE}");

    let package = match env::var_os(OVERRIDE) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => npm_ci(&source, &out_dir.join("npm"))?,
    };
    let dist = package.join("dist").join("nhsuk");
    let version = package_version(&package)?;

    let target = out_dir.join("nhsuk-frontend");
    if target.exists() {
        fs::remove_dir_all(&target)
            .map_err(|e| format!("cannot clear {}: {e}", target.display()))?;
    }
    fs::create_dir_all(target.join("images"))
        .map_err(|e| format!("cannot create {}: {e}", target.display()))?;

    let mut served: Vec<String> = Vec::new();
    for (from, to) in FILES {
        copy(&dist.join(from), &target.join(to))?;
        served.push((*to).to_owned());
    }
    let images = dist.join("assets").join("images");
    let mut names: Vec<String> = fs::read_dir(&images)
        .map_err(|e| format!("cannot read {}: {e}", images.display()))?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect();
    names.sort();
    for name in names {
        copy(&images.join(&name), &target.join("images").join(&name))?;
        served.push(format!("images/{name}"));
    }

    let mut table = String::new();
    let _ = writeln!(
        table,
        "/// The version of `nhsuk-frontend` the embedded files come from.\n\
         pub const VERSION: &str = {version:?};\n\n\
         /// Every embedded file: its name below `/assets/` and its bytes.\n\
         pub static FILES: &[(&str, &[u8])] = &["
    );
    for name in &served {
        let _ = writeln!(
            table,
            "    ({name:?}, include_bytes!(concat!(env!(\"OUT_DIR\"), \"/nhsuk-frontend/{name}\"))),"
        );
    }
    table.push_str("];\n");
    let generated = out_dir.join("nhsuk_assets.rs");
    fs::write(&generated, table).map_err(|e| format!("cannot write {}: {e}", generated.display()))
}

/// Runs `npm ci` in a copy of `source` under `dir`, unless that copy is already installed from the
/// same lockfile. Returns the installed package's directory.
fn npm_ci(source: &Path, dir: &Path) -> Result<PathBuf, String> {
    let package = dir.join("node_modules").join("nhsuk-frontend");
    let lock = read(&source.join("package-lock.json"))?;
    let installed_lock = fs::read(dir.join("package-lock.json")).ok();
    if package.join("package.json").exists() && installed_lock.as_deref() == Some(lock.as_slice()) {
        return Ok(package);
    }
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for name in ["package.json", "package-lock.json"] {
        copy(&source.join(name), &dir.join(name))?;
    }
    let output = Command::new("npm")
        .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "npm was not found. valued-gateway embeds the NHS.UK frontend, which it installs \
                     with `npm ci` from services/gateway/assets/package-lock.json: install Node.js 20+ \
                     with npm, or set {OVERRIDE} to an installed node_modules/nhsuk-frontend"
                )
            } else {
                format!("cannot run npm: {e}")
            }
        })?;
    if !output.status.success() {
        return Err(format!(
            "`npm ci` failed in {} ({}):\n{}{}",
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    if !package.join("package.json").exists() {
        return Err(format!(
            "`npm ci` succeeded but {} is missing",
            package.display()
        ));
    }
    Ok(package)
}

fn package_version(package: &Path) -> Result<String, String> {
    let manifest = read(&package.join("package.json"))?;
    let manifest: serde_json::Value = serde_json::from_slice(&manifest)
        .map_err(|e| format!("{}: {e}", package.join("package.json").display()))?;
    manifest["version"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{} has no version", package.join("package.json").display()))
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn env_var(name: &str) -> Result<String, String> {
    env::var(name).map_err(|_| format!("{name} is not set (this runs as a Cargo build script)"))
}

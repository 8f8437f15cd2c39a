//! `cargo xtask dist`: builds the PWA (wasm + wasm-bindgen JS + public/ assets) into
//! `target/dist` with content-hashed entry points, a filled-in service worker and
//! pre-compressed `.br`/`.gz` siblings, and enforces the first-load size budget.

use crate::process::{Workspace, which};
use crate::setup::{WASM_TARGET, ensure_wasm_target};
use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use wasm_bindgen_cli_support::Bindgen;

/// Budget for the brotli-compressed bytes a first visit must download before the app can start;
/// the target is a low-end phone on 3G.
const FIRST_LOAD_BUDGET: u64 = 600_000;

/// Extensions worth pre-compressing: text formats and wasm. Images and fonts are compressed already.
const COMPRESSIBLE: &[&str] = &[
    "html",
    "js",
    "wasm",
    "css",
    "webmanifest",
    "svg",
    "json",
    "txt",
];

const WASM_OPT_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
    "--strip-debug",
    "--strip-producers",
];

/// One bundle of the app crate: its cargo feature, the name of its files (`{name}-HASH.js`), and the
/// page that loads it. Members' phones load only `field`; the aggregating level's screens are in
/// `office`, so the phone's first load does not carry them.
struct Bundle {
    feature: &'static str,
    name: &'static str,
    page: &'static str,
}

const BUNDLES: [Bundle; 2] = [
    Bundle {
        feature: "field",
        name: "app",
        page: "index.html",
    },
    Bundle {
        feature: "office",
        name: "office",
        page: "office/index.html",
    },
];

/// Builds `target/dist` and returns its path.
pub fn dist(ws: &Workspace) -> Result<PathBuf> {
    ensure_wasm_target(ws)?;
    let dist = ws.target.join("dist");
    // Assemble next to the real dist and swap at the end, so a failed build never leaves a
    // half-written dist for a running server to serve.
    // Per process: two dist builds at once (a test run and `xtask screenshots`) must not share it.
    let tmp = ws.target.join(format!("dist.tmp-{}", std::process::id()));
    remove_dir_if_exists(&tmp)?;
    fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    copy_public(&ws.root.join("public"), &tmp)?;

    let mut entries = Vec::new();
    for bundle in &BUNDLES {
        ws.run(ws.cargo().args([
            "build",
            "-p",
            "app",
            "--lib",
            "--target",
            WASM_TARGET,
            "--profile",
            "wasm-release",
            "--no-default-features",
            "--features",
            bundle.feature,
        ]))?;
        let input = ws
            .target
            .join(WASM_TARGET)
            .join("wasm-release")
            .join("app.wasm");
        let staging = ws.target.join(format!("dist-bindgen-{}", bundle.name));
        run_bindgen(ws, &input, &staging, bundle.name)?;
        optimise_wasm(ws, &staging.join(format!("{}_bg.wasm", bundle.name)))?;
        let entry = copy_bindgen_output(&staging, &tmp, bundle.name)?;
        fill_page(
            &ws.root.join("public/index.html"),
            &tmp.join(bundle.page),
            &entry,
        )?;
        entries.push(entry);
    }
    fill_service_worker(&tmp)?;
    compress_all(&tmp)?;

    remove_dir_if_exists(&dist)?;
    fs::rename(&tmp, &dist)
        .with_context(|| format!("renaming {} to {}", tmp.display(), dist.display()))?;
    println!("wrote {}", ws.rel(&dist).display());

    check_first_load(&dist, &entries[0])?;
    Ok(dist)
}

fn run_bindgen(ws: &Workspace, input: &Path, staging: &Path, name: &str) -> Result<()> {
    if !input.exists() {
        bail!("{} was not produced by the build", input.display());
    }
    remove_dir_if_exists(staging)?;
    println!(
        "wasm-bindgen {} -> {}",
        ws.rel(input).display(),
        ws.rel(staging).display()
    );
    Bindgen::new()
        .input_path(input)
        .out_name(name)
        .typescript(false)
        .web(true)?
        .generate(staging)
        .with_context(|| format!("wasm-bindgen on {}", input.display()))?;
    for file in [format!("{name}.js"), format!("{name}_bg.wasm")] {
        if !staging.join(&file).exists() {
            bail!("wasm-bindgen did not write {file}");
        }
    }
    Ok(())
}

/// Shrinks the wasm with wasm-opt when available. Optional by design: a machine without
/// binaryen still gets a working (bigger) build, so failures here are only warnings.
fn optimise_wasm(ws: &Workspace, wasm: &Path) -> Result<()> {
    let before = file_len(wasm)?;
    let wasm_opt = which("wasm-opt").filter(|_| std::env::var_os("DANVAN_NO_WASM_OPT").is_none());
    let Some(wasm_opt) = wasm_opt else {
        eprintln!(
            "warning: wasm-opt not on PATH (Debian package `binaryen`); wasm left un-optimised at {}",
            human(before)
        );
        return Ok(());
    };
    let optimised = wasm.with_extension("opt.wasm");
    // `--converge` repeats the passes while they still shrink the module: ~3 KB brotli off the
    // phone's first load for ~15 s of build. Flattening the control flow and rebuilding it
    // (`--flatten --rereloop`) before a last `-Oz` takes ~2 KB more, and one more `-Oz` on the
    // module as written and read back (a fresh run, not one more round of the first) ~2 KB more.
    let rounds: [&[&str]; 2] = [
        &["-Oz", "--flatten", "--rereloop", "-Oz", "--converge"],
        &["-Oz"],
    ];
    for passes in rounds {
        let mut cmd = Command::new(&wasm_opt);
        cmd.args(passes)
            .args(WASM_OPT_FEATURES)
            .arg("-o")
            .arg(&optimised)
            .arg(wasm);
        if let Err(err) = ws.run(&mut cmd).and_then(|()| {
            fs::rename(&optimised, wasm)
                .with_context(|| format!("replacing {} with the optimised wasm", wasm.display()))
        }) {
            let _ = fs::remove_file(&optimised);
            eprintln!("warning: {err:#}; keeping the wasm as it was before this round");
            break;
        }
    }
    println!("wasm-opt: {} -> {}", human(before), human(file_len(wasm)?));
    Ok(())
}

fn copy_public(public: &Path, dest: &Path) -> Result<()> {
    if !public.join("index.html").exists() {
        bail!("{} does not exist", public.join("index.html").display());
    }
    for rel in walk(public)? {
        // Dotfiles (.gitkeep, editor droppings) are not app assets; precaching one the server
        // refuses to serve would make the service worker's install fail.
        if rel
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
        {
            continue;
        }
        copy_file(&public.join(&rel), &dest.join(&rel))?;
    }
    Ok(())
}

/// The content-hashed names of the entry points, as absolute URL paths.
struct Entry {
    js: String,
    wasm: String,
}

/// Copies wasm-bindgen's output into dist, hashing the names of the two entry files.
///
/// Everything else (notably `snippets/` for inline_js) keeps its emitted path, because app.js
/// imports it through relative `./snippets/...` specifiers and app.js stays at the dist root.
fn copy_bindgen_output(staging: &Path, dest: &Path, name: &str) -> Result<Entry> {
    let mut entry = Entry {
        js: String::new(),
        wasm: String::new(),
    };
    let (js, wasm) = (format!("{name}.js"), format!("{name}_bg.wasm"));
    for rel in walk(staging)? {
        let src = staging.join(&rel);
        let target_rel = match rel.to_str() {
            Some(r) if r == js => {
                let hashed = format!("{name}-{}.js", short_hash(&read(&src)?, 8));
                entry.js = format!("/{hashed}");
                PathBuf::from(hashed)
            }
            Some(r) if r == wasm => {
                let hashed = format!("{name}_bg-{}.wasm", short_hash(&read(&src)?, 8));
                entry.wasm = format!("/{hashed}");
                PathBuf::from(hashed)
            }
            _ => rel.clone(),
        };
        let target = dest.join(&target_rel);
        // Both bundles come from one crate: their inline-JS snippets are the same files.
        if target.exists() && rel.starts_with("snippets") && read(&target)? == read(&src)? {
            continue;
        }
        if target.exists() {
            bail!(
                "public/{} collides with a file generated by wasm-bindgen",
                target_rel.display()
            );
        }
        copy_file(&src, &target)?;
    }
    Ok(entry)
}

/// Writes the page that loads one bundle, from the `public/index.html` template.
fn fill_page(template: &Path, path: &Path, entry: &Entry) -> Result<()> {
    let html = read_string(template)?;
    for placeholder in ["__APP_JS__", "__APP_WASM__"] {
        if !html.contains(placeholder) {
            bail!("public/index.html lacks the {placeholder} placeholder");
        }
    }
    let html = html
        .replace("__APP_JS__", &entry.js)
        .replace("__APP_WASM__", &entry.wasm);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    write(path, html.as_bytes())
}

/// Fills `__PRECACHE__` with every servable file and `__VERSION__` with a digest of them, so a
/// new build produces a byte-different sw.js and browsers install it and refresh their cache.
fn fill_service_worker(dist: &Path) -> Result<()> {
    let sw_path = dist.join("sw.js");
    if !sw_path.exists() {
        bail!("public/sw.js does not exist");
    }
    let sw = read_string(&sw_path)?;
    for placeholder in ["__VERSION__", "__PRECACHE__"] {
        if !sw.contains(placeholder) {
            bail!("public/sw.js lacks the {placeholder} placeholder");
        }
    }

    let mut urls = Vec::new();
    let mut digest = Sha256::new();
    for rel in walk(dist)? {
        let rel_str = url_path(&rel);
        if rel_str == "sw.js" || rel_str.ends_with(".br") || rel_str.ends_with(".gz") {
            continue;
        }
        // The office bundle is not precached: phones never load it (the service worker caches it
        // on the office's first visit instead). Nor are the manifest's screenshots (only an install
        // dialog shows them). Both still count for the version below.
        let office = rel_str.starts_with("office") || rel_str.starts_with("screenshots/");
        // The app is served at "/", and that is the URL the page's fetches will look up.
        let url = if rel_str == "index.html" {
            "/".to_owned()
        } else if rel_str == "office/index.html" {
            "/office/".to_owned()
        } else {
            format!("/{rel_str}")
        };
        // Hash the URL as well as the bytes so that a rename alone also bumps the version;
        // the separators keep (name, content) pairs from running into each other.
        digest.update(url.as_bytes());
        digest.update([0]);
        digest.update(read(&dist.join(&rel))?);
        digest.update([0]);
        if !office {
            urls.push(url);
        }
    }
    let version = hex::encode(digest.finalize())[..12].to_owned();
    let precache = serde_json::to_string(&urls)?;

    // The array must land as a JS expression; tolerate the placeholder having been written as
    // a string literal (to keep the unbuilt sw.js parseable) by replacing the quotes too.
    let sw = sw
        .replace("\"__PRECACHE__\"", &precache)
        .replace("'__PRECACHE__'", &precache)
        .replace("__PRECACHE__", &precache)
        .replace("__VERSION__", &version);
    write(&sw_path, sw.as_bytes())?;
    println!(
        "service worker version {version}, {} precached files",
        urls.len()
    );
    Ok(())
}

/// Writes `.br` and `.gz` next to every compressible file so the server can send them as-is.
fn compress_all(dist: &Path) -> Result<()> {
    let files: Vec<PathBuf> = walk(dist)?
        .into_iter()
        .filter(|rel| {
            rel.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| COMPRESSIBLE.contains(&e))
        })
        .map(|rel| dist.join(rel))
        .collect();
    // Brotli at quality 11 on the wasm takes seconds; spreading the files over threads lets the
    // small ones finish alongside it.
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .iter()
            .map(|path| scope.spawn(move || compress_file(path)))
            .collect();
        handles.into_iter().try_for_each(|handle| {
            handle
                .join()
                .unwrap_or_else(|_| bail!("a compression thread panicked"))
        })
    })
}

fn compress_file(path: &Path) -> Result<()> {
    let data = read(path)?;

    let mut br = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        size_hint: data.len(),
        ..Default::default()
    };
    brotli::BrotliCompress(&mut data.as_slice(), &mut br, &params)
        .with_context(|| format!("brotli-compressing {}", path.display()))?;
    write(&sibling(path, "br"), &br)?;

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&data)?;
    let gz = gz
        .finish()
        .with_context(|| format!("gzipping {}", path.display()))?;
    write(&sibling(path, "gz"), &gz)
}

/// Prints what a first visit downloads (brotli sizes) and fails when it exceeds the budget.
fn check_first_load(dist: &Path, entry: &Entry) -> Result<()> {
    let first_load: Vec<String> = walk(dist)?
        .iter()
        .map(|rel| url_path(rel))
        .filter(|rel| {
            rel == "index.html"
                || format!("/{rel}") == entry.js
                || format!("/{rel}") == entry.wasm
                || rel.ends_with(".css")
                || rel.starts_with("snippets/") && rel.ends_with(".js")
        })
        .collect();

    println!("first load (brotli):");
    let mut total = 0;
    for rel in &first_load {
        let size = file_len(&sibling(&dist.join(rel), "br"))?;
        total += size;
        println!("  {size:>9} B  {rel}");
    }
    println!(
        "  {total:>9} B  total ({:.1} KB of the {:.1} KB budget)",
        total as f64 / 1000.0,
        FIRST_LOAD_BUDGET as f64 / 1000.0
    );
    if total > FIRST_LOAD_BUDGET {
        bail!(
            "first load is {total} bytes brotli-compressed, over the budget of {FIRST_LOAD_BUDGET}"
        );
    }
    Ok(())
}

/// All files below `root`, as sorted relative paths (sorted so hashes and listings are stable).
fn walk(root: &Path) -> Result<Vec<PathBuf>> {
    fn visit(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        for item in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
            let item = item?;
            let path = item.path();
            if item.file_type()?.is_dir() {
                visit(root, &path, out)?;
            } else {
                out.push(path.strip_prefix(root)?.to_path_buf());
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    visit(root, root, &mut out)?;
    out.sort();
    Ok(out)
}

/// A relative path with `/` separators, as it appears in a URL.
fn url_path(rel: &Path) -> String {
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn sibling(path: &Path, ext: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

fn short_hash(data: &[u8], len: usize) -> String {
    hex::encode(Sha256::digest(data))[..len].to_owned()
}

fn copy_file(src: &Path, dest: &Path) -> Result<()> {
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    fs::copy(src, dest)
        .with_context(|| format!("copying {} to {}", src.display(), dest.display()))?;
    Ok(())
}

fn remove_dir_if_exists(dir: &Path) -> Result<()> {
    match fs::remove_dir_all(dir) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            Err(err).with_context(|| format!("removing {}", dir.display()))
        }
        _ => Ok(()),
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn read_string(path: &Path) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn write(path: &Path, data: &[u8]) -> Result<()> {
    fs::write(path, data).with_context(|| format!("writing {}", path.display()))
}

fn file_len(path: &Path) -> Result<u64> {
    Ok(fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len())
}

fn human(bytes: u64) -> String {
    format!("{bytes} B ({:.1} KB)", bytes as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A throwaway directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("xtask-{tag}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn put(dir: &Path, rel: &str, content: &str) {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    #[test]
    fn assembles_a_dist() {
        let tmp = TempDir::new("dist");
        let (public, staging, dist) = (
            tmp.0.join("public"),
            tmp.0.join("staging"),
            tmp.0.join("dist"),
        );
        put(
            &public,
            "index.html",
            "<script type=module>import init from '__APP_JS__'; init('__APP_WASM__')</script>",
        );
        put(
            &public,
            "sw.js",
            "const VERSION = '__VERSION__'; const PRECACHE = __PRECACHE__;",
        );
        put(&public, "style.css", "body{}");
        put(&public, ".gitkeep", "");
        put(&staging, "app.js", "import './snippets/x-1/inline0.js';");
        put(&staging, "app_bg.wasm", "\0asm");
        put(&staging, "snippets/x-1/inline0.js", "export {}");
        fs::create_dir_all(&dist).unwrap();

        copy_public(&public, &dist).unwrap();
        let entry = copy_bindgen_output(&staging, &dist, "app").unwrap();
        fill_page(&public.join("index.html"), &dist.join("index.html"), &entry).unwrap();
        // The office bundle's page is written but never precached.
        fill_page(
            &public.join("index.html"),
            &dist.join("office/index.html"),
            &entry,
        )
        .unwrap();
        fill_service_worker(&dist).unwrap();
        compress_all(&dist).unwrap();
        check_first_load(&dist, &entry).unwrap();

        let js_hash = short_hash(b"import './snippets/x-1/inline0.js';", 8);
        assert_eq!(entry.js, format!("/app-{js_hash}.js"));
        let html = fs::read_to_string(dist.join("index.html")).unwrap();
        assert!(html.contains(&entry.js) && html.contains(&entry.wasm));
        assert!(!dist.join(".gitkeep").exists());

        let sw = fs::read_to_string(dist.join("sw.js")).unwrap();
        let precache: Vec<String> = {
            let start = sw.find('[').unwrap();
            let end = sw.rfind(']').unwrap();
            serde_json::from_str(&sw[start..=end]).unwrap()
        };
        let mut expected = vec![
            "/".to_owned(),
            entry.js.clone(),
            entry.wasm.clone(),
            "/snippets/x-1/inline0.js".to_owned(),
            "/style.css".to_owned(),
        ];
        expected.sort();
        let mut got = precache.clone();
        got.sort();
        assert_eq!(got, expected);
        assert!(!sw.contains("__VERSION__"));

        for rel in [
            "index.html",
            "sw.js",
            "style.css",
            "snippets/x-1/inline0.js",
        ] {
            assert!(sibling(&dist.join(rel), "br").exists(), "{rel}.br");
            assert!(sibling(&dist.join(rel), "gz").exists(), "{rel}.gz");
        }
        let br = fs::read(sibling(&dist.join("index.html"), "br")).unwrap();
        let mut round_trip = Vec::new();
        brotli::BrotliDecompress(&mut br.as_slice(), &mut round_trip).unwrap();
        assert_eq!(round_trip, fs::read(dist.join("index.html")).unwrap());
    }
}

//! Directories (a sharded checkpoint, a model folder) in one command: model
//! files (GGUF, safetensors) become containers named `FILE.llmc`; everything
//! else (configs, tokenizers, `model.safetensors.index.json`) is copied as is,
//! so the compressed folder stays readable. `decompress` reverses it.

use crate::commands::{self, Outcome};
use crate::files::{self, Kind};
use crate::progress::Progress;
use llmc::{CompressParams, DecodeOptions};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Every regular file under `dir`, sorted, as paths relative to it.
fn walk(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let here = dir.join(&rel);
        let entries = std::fs::read_dir(&here).map_err(|e| format!("cannot list {}: {e}", here.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot list {}: {e}", here.display()))?;
            let kind = entry.file_type().map_err(|e| format!("{}: {e}", entry.path().display()))?;
            let rel = rel.join(entry.file_name());
            if kind.is_dir() {
                stack.push(rel);
            } else if kind.is_file() {
                out.push(rel);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn first_bytes(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut head = Vec::with_capacity(16);
    std::fs::File::open(path).and_then(|f| f.take(16).read_to_end(&mut head)).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(head)
}

/// Is `path` a GGUF or safetensors file (by its first bytes)?
fn is_model(path: &Path) -> Result<bool, String> {
    if std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?.len() == 0 {
        return Ok(false);
    }
    let map = llmc::io::map(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(matches!(files::kind(&map), Kind::Gguf | Kind::Safetensors))
}

/// Where a directory command writes. A new (or empty) output is built under a
/// temporary sibling name and renamed into place at the end, so a failed or
/// killed run leaves nothing under the final name; `--force` into a non-empty
/// directory writes there directly (each file still written atomically).
struct Staging {
    output: PathBuf,
    work: PathBuf,
}

impl Staging {
    fn new(output: &Path, force: bool) -> Result<Staging, String> {
        let busy = std::fs::read_dir(output).is_ok_and(|mut d| d.next().is_some());
        if busy && !force {
            return Err(format!("{} exists and is not empty; pass --force to write into it", output.display()));
        }
        let work = if busy { output.to_path_buf() } else { llmc::io::temp_name(output) };
        make_parent(&work)?;
        std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
        Ok(Staging { output: output.to_path_buf(), work })
    }

    fn staged(&self) -> bool {
        self.work != self.output
    }

    /// Moves a staged directory into place (rename replaces an empty directory).
    fn finish(self, result: Result<(), String>) -> Result<(), String> {
        if !self.staged() {
            return result;
        }
        let result = result.and_then(|()| {
            std::fs::rename(&self.work, &self.output).map_err(|e| format!("cannot move {} to {}: {e}", self.work.display(), self.output.display()))
        });
        match result {
            Ok(()) => llmc::io::sync_parent(&self.output),
            Err(_) => {
                let _ = std::fs::remove_dir_all(&self.work);
            }
        }
        result
    }
}

fn total_size(dir: &Path, files: &[PathBuf]) -> u64 {
    files.iter().map(|f| std::fs::metadata(dir.join(f)).map_or(0, |m| m.len())).sum()
}

fn copy(from: &Path, to: &Path) -> Result<Outcome, String> {
    let data = files::read(from)?;
    files::write(to, &data)?;
    Ok(Outcome { input_bytes: data.len() as u64, output_bytes: data.len() as u64 })
}

fn make_parent(path: &Path) -> Result<(), String> {
    match path.parent() {
        Some(p) => std::fs::create_dir_all(p).map_err(|e| format!("cannot create {}: {e}", p.display())),
        None => Ok(()),
    }
}

struct Summary {
    started: Instant,
    files: usize,
    coded: usize,
    input: u64,
    output: u64,
    model_in: u64,
    model_out: u64,
}

impl Summary {
    fn new() -> Summary {
        Summary { started: Instant::now(), files: 0, coded: 0, input: 0, output: 0, model_in: 0, model_out: 0 }
    }

    fn add(&mut self, o: &Outcome, coded: bool) {
        self.files += 1;
        self.input += o.input_bytes;
        self.output += o.output_bytes;
        if coded {
            self.coded += 1;
            self.model_in += o.input_bytes;
            self.model_out += o.output_bytes;
        }
    }

    fn print(&self, verb: &str, from: &Path, to: &Path, verified: bool) {
        let secs = self.started.elapsed().as_secs_f64();
        let r = |a: u64, b: u64| a as f64 / b.max(1) as f64;
        eprintln!(
            "{} -> {}: {} files ({} {verb}, {} copied), {} -> {} bytes (ratio {:.4}; model files {:.4}), {:.2} s ({:.0} MB/s){}",
            from.display(),
            to.display(),
            self.files,
            self.coded,
            self.files - self.coded,
            self.input,
            self.output,
            if verb == "compressed" { r(self.input, self.output) } else { r(self.output, self.input) },
            if verb == "compressed" { r(self.model_in, self.model_out) } else { r(self.model_out, self.model_in) },
            secs,
            self.input.max(self.output) as f64 / secs / 1e6,
            if verified { ", verified" } else { "" }
        );
    }
}

/// Compresses every model file under `input` into `output` (a directory).
pub fn compress_dir(input: &Path, output: &Path, params: &CompressParams, verify: bool, force: bool) -> Result<(), String> {
    let list = walk(input)?;
    let stage = Staging::new(output, force)?;
    let out_dir = stage.work.clone();
    let bar = Progress::bytes(total_size(input, &list), "compressing");
    let mut sum = Summary::new();
    let result = (|| {
        for rel in &list {
            let from = input.join(rel);
            make_parent(&out_dir.join(rel))?;
            if is_model(&from)? {
                let to = files::compressed_name(&out_dir.join(rel));
                sum.add(&commands::compress_one(&from, &to, None, params, false, verify, &bar)?, true);
            } else {
                let o = copy(&from, &out_dir.join(rel))?;
                bar.set(bar.position() + o.input_bytes);
                sum.add(&o, false);
            }
        }
        Ok::<(), String>(())
    })();
    bar.finish();
    stage.finish(result)?;
    sum.print("compressed", input, output, verify);
    Ok(())
}

/// Rebuilds every `.llmc` file under `input` into `output`, copying the rest.
pub fn decompress_dir(input: &Path, output: &Path, opts: &DecodeOptions, verify: bool, force: bool) -> Result<(), String> {
    let list = walk(input)?;
    let stage = Staging::new(output, force)?;
    let out_dir = stage.work.clone();
    let bar = Progress::bytes(total_size(input, &list), "decompressing");
    let mut sum = Summary::new();
    let result = (|| {
        for rel in &list {
            let from = input.join(rel);
            let size = std::fs::metadata(&from).map_or(0, |m| m.len());
            let compressed = rel.extension().is_some_and(|e| e == "llmc") && matches!(files::kind(&first_bytes(&from)?), Kind::Container | Kind::Frame);
            make_parent(&out_dir.join(rel))?;
            if compressed {
                let to = files::decompressed_name(&out_dir.join(rel))?;
                sum.add(&commands::decompress_one(&from, &to, opts, verify)?, true);
            } else {
                sum.add(&copy(&from, &out_dir.join(rel))?, false);
            }
            bar.set(bar.position() + size);
        }
        Ok::<(), String>(())
    })();
    bar.finish();
    stage.finish(result)?;
    sum.print("decompressed", input, output, verify);
    Ok(())
}

/// `ckpt/` -> `ckpt.llmc/`.
pub fn compressed_dir_name(input: &Path) -> PathBuf {
    files::compressed_name(&strip_slash(input))
}

fn strip_slash(p: &Path) -> PathBuf {
    p.components().collect()
}

/// `ckpt.llmc/` -> `ckpt/`.
pub fn decompressed_dir_name(input: &Path) -> Result<PathBuf, String> {
    files::decompressed_name(&strip_slash(input))
}

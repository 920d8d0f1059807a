//! Directories (a sharded checkpoint, a model folder) in one command: model
//! files (GGUF, safetensors) become containers named `FILE.llmc`; everything
//! else (configs, tokenizers, `model.safetensors.index.json`) is copied as is,
//! so the compressed folder stays readable. `decompress` reverses it.
//!
//! Symbolic links to files and folders are followed (and said so); empty folders are
//! carried; what cannot be carried (special files, broken links, loops) is
//! named and makes the exit status a failure, as does a file that does not
//! code (copied as it is). Before anything is written, the plan is checked: no two inputs may
//! map to one output (`FILE` beside a stale `FILE.llmc`), no output may land on
//! an input, and the output folder may not lie inside the input or around it.

use crate::commands::{self, Outcome};
use crate::files::{self, Kind};
use crate::progress::{self, Progress};
use crate::walk::{self, Found, Listing};
use llmc::{CompressParams, DecodeOptions};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

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
        if std::fs::metadata(output).is_ok_and(|m| !m.is_dir()) {
            return Err(format!("{} exists and is not a directory", output.display()));
        }
        let busy = std::fs::read_dir(output).is_ok_and(|mut d| d.next().is_some());
        if busy && !force {
            return Err(format!("{} exists and is not empty; pass --force to write into it", output.display()));
        }
        let work = if busy { output.to_path_buf() } else { llmc::io::temp_name(output) };
        make_parent(&work)?;
        if !busy {
            // Removed with what it holds if the command is interrupted (Ctrl-C).
            llmc::io::track_temp(&work);
        }
        llmc::io::create_dir_all_tracked(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
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
        llmc::io::untrack_temp(&self.work);
        result
    }
}

fn total_size(files: &[(&Found, PathBuf, bool)]) -> u64 {
    files.iter().map(|(f, _, _)| f.len).sum()
}

/// Does a file of this name and these first bytes decode in `decompress`
/// (rather than being copied)?
fn decodes(rel: &Path, head: &[u8]) -> bool {
    rel.extension().is_some_and(|e| e == "llmc") && matches!(files::kind(head), Kind::Container | Kind::Frame)
}

/// What a directory command will do: each input file with its output (relative
/// to the output folder) and whether it is coded (else copied), checked for
/// clashes before anything is written.
struct Plan<'a> {
    jobs: Vec<(&'a Found, PathBuf, bool)>,
    /// The input's folders, made in the output (empty ones included).
    dirs: &'a [PathBuf],
}

impl<'a> Plan<'a> {
    /// `target(found)` gives a file's output and whether it is coded, or why
    /// it must not be carried.
    fn new(input: &Path, output: &Path, listing: &'a Listing, target: impl Fn(&Found) -> Result<(PathBuf, bool), String>) -> Result<Plan<'a>, String> {
        let (inp, out) = (walk::resolved(input), walk::resolved(output));
        if out.starts_with(&inp) || inp.starts_with(&out) {
            return Err(format!(
                "the output {} would lie {} the input {}; choose an output outside it",
                output.display(),
                if out == inp { "at" } else if out.starts_with(&inp) { "inside" } else { "around" },
                input.display()
            ));
        }
        let mut problems = Vec::new();
        let mut jobs = Vec::new();
        let mut by_output: BTreeMap<PathBuf, &Path> = BTreeMap::new();
        let inputs: HashSet<(u64, u64)> = listing.files.iter().map(|f| f.id).collect();
        for f in &listing.files {
            let (to, coded) = match target(f) {
                Ok(t) => t,
                Err(why) => {
                    problems.push(format!("{}: {why}", f.rel.display()));
                    continue;
                }
            };
            if let Some(other) = by_output.insert(to.clone(), &f.rel) {
                problems.push(format!("{} and {} would both be written to {}", other.display(), f.rel.display(), to.display()));
            }
            // With --force, an existing output that is one of the inputs (through a link).
            if std::fs::metadata(output.join(&to)).is_ok_and(|m| inputs.contains(&(std::os::unix::fs::MetadataExt::dev(&m), std::os::unix::fs::MetadataExt::ino(&m)))) {
                problems.push(format!("{} would overwrite the input it is", output.join(&to).display()));
            }
            jobs.push((f, to, coded));
        }
        // A file where another output needs a folder (`a.gguf` -> `a.gguf.llmc`
        // beside a folder `a.gguf.llmc/`).
        for (to, from) in &by_output {
            if let Some(dir) = to.ancestors().skip(1).find(|a| by_output.contains_key(*a)) {
                problems.push(format!("{} would be written to {}, which {} needs as a folder", by_output[dir].display(), dir.display(), from.display()));
            }
        }
        // An output file where the input has a folder (`a.gguf` beside an empty `a.gguf.llmc/`).
        for dir in &listing.dirs {
            if let Some(from) = by_output.get(dir) {
                problems.push(format!("{} would be written to {}, which is a folder in the input", from.display(), dir.display()));
            }
        }
        if !problems.is_empty() {
            return Err(format!("nothing written; {} file(s) cannot be carried over:\n  {}", problems.len(), problems.join("\n  ")));
        }
        Ok(Plan { jobs, dirs: &listing.dirs })
    }
}

impl Plan<'_> {
    /// Makes the input's folders under `out_dir`: the files' folders are made
    /// as they are written, but an empty folder would be lost.
    fn make_dirs(&self, out_dir: &Path) -> Result<(), String> {
        for d in self.dirs {
            let at = out_dir.join(d);
            llmc::io::create_dir_all_tracked(&at).map_err(|e| format!("cannot create {}: {e}", at.display()))?;
        }
        Ok(())
    }
}

/// Says which links are followed and which files are left out; returns how
/// many are left out.
fn report_walk(input: &Path, listing: &Listing) -> usize {
    // Followed links are only a note (left out with -q); skipped files fail the run.
    if !progress::quiet() {
        let links = listing.files.iter().filter_map(|f| Some((&f.rel, f.link.as_ref()?))).chain(listing.linked_dirs.iter().map(|(rel, to)| (rel, to)));
        let mut links: Vec<_> = links.collect();
        links.sort();
        for (rel, to) in links {
            eprintln!("llmc: {}: symbolic link to {}, following it", input.join(rel).display(), to.display());
        }
    }
    for (rel, why) in &listing.skipped {
        eprintln!("llmc: skipping {}: {why}", input.join(rel).display());
    }
    listing.skipped.len()
}

/// The outcome of a directory command: how many files were left out (named
/// on stderr as they were found).
pub struct DirReport {
    pub skipped: usize,
    /// Files that did not code (model files that do not parse, containers
    /// that do not decode), copied as they are.
    pub not_coded: usize,
    /// What those are and what they failed, for the closing message.
    pub not_coded_are: (&'static str, &'static str),
}

const NOT_PARSED: (&str, &str) = ("model file(s)", "did not parse");
const NOT_DECODED: (&str, &str) = ("compressed file(s)", "did not decode");

fn copy(from: &Path, to: &Path) -> Result<Outcome, String> {
    let n = files::copy(from, to)?;
    Ok(Outcome { input_bytes: n, output_bytes: n })
}

fn make_parent(path: &Path) -> Result<(), String> {
    match path.parent() {
        Some(p) => llmc::io::create_dir_all_tracked(p).map_err(|e| format!("cannot create {}: {e}", p.display())),
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

    fn print(&self, verb: &str, from: &Path, to: &Path, verified: bool, skipped: usize) {
        if progress::quiet() {
            return;
        }
        let secs = self.started.elapsed().as_secs_f64();
        // Original bytes over compressed bytes, whichever way the command went.
        let ratio = |i: u64, o: u64| if verb == "compressed" { commands::ratio(i, o) } else { commands::ratio(o, i) };
        eprintln!(
            "{} -> {}: {} files ({} {verb}, {} copied{}), {} -> {} bytes (ratio {}{}), {:.2} s ({:.0} MB/s){}",
            from.display(),
            to.display(),
            self.files,
            self.coded,
            self.files - self.coded,
            if skipped > 0 { format!(", {skipped} skipped") } else { String::new() },
            self.input,
            self.output,
            ratio(self.input, self.output),
            if self.coded > 0 { format!("; model files {}", ratio(self.model_in, self.model_out)) } else { String::new() },
            secs,
            self.input.max(self.output) as f64 / secs / 1e6,
            if verified && self.coded > 0 { ", verified" } else { "" }
        );
    }
}

/// `-c` or `-o -` for a directory would otherwise build a folder named `-`.
fn refuse_stdout(input: &Path, output: Option<&Path>) -> Result<(), String> {
    if output == Some(Path::new("-")) {
        return Err(format!("{} is a directory: its output is a directory, not standard output (-c, -o -)", input.display()));
    }
    Ok(())
}

/// A directory with no file in it is named (even with -q, as zstd does; not
/// with -qq) and left alone: no output folder is made, and the status stays
/// 0, zstd's for "nothing to do".
fn nothing_to_do(input: &Path, listing: &Listing, verb: &str) -> bool {
    if !listing.files.is_empty() {
        return false;
    }
    if !progress::very_quiet() {
        eprintln!("llmc: {}: no files to {verb}", input.display());
    }
    true
}

/// Says (before the work, unless quiet) that a folder holds nothing to code:
/// its files are only copied, which is rarely what was meant.
fn no_coded_file(input: &Path, plan: &Plan, what: &str) {
    if !progress::quiet() && !plan.jobs.iter().any(|(_, _, coded)| *coded) {
        eprintln!("llmc: {}: {what} in it: its files are copied as they are", input.display());
    }
}

/// Compresses every model file under `input` into `output` (a directory;
/// default `INPUT.llmc`).
pub fn compress_dir(input: &Path, output: Option<&Path>, params: &CompressParams, verify: bool, force: bool) -> Result<DirReport, String> {
    refuse_stdout(input, output)?;
    let listing = walk::walk(input)?;
    let skipped = report_walk(input, &listing);
    if nothing_to_do(input, &listing, "compress") {
        return Ok(DirReport { skipped, not_coded: 0, not_coded_are: NOT_PARSED });
    }
    let output = &output.map_or_else(|| compressed_dir_name(input), Path::to_path_buf);
    let plan = Plan::new(input, output, &listing, |f| {
        let from = input.join(&f.rel);
        let head = first_bytes(&from)?;
        if decodes(&f.rel, &head) {
            return Err("already compressed: decompressing the folder would decode it instead of restoring it; move it out or rename it".into());
        }
        Ok(if is_model(&from)? { (files::compressed_name(&f.rel), true) } else { (f.rel.clone(), false) })
    })?;
    let stage = Staging::new(output, force)?;
    no_coded_file(input, &plan, "no GGUF or safetensors file");
    let out_dir = stage.work.clone();
    let bar = Progress::bytes(total_size(&plan.jobs), "compressing");
    let mut sum = Summary::new();
    let mut not_coded = 0;
    let result = (|| {
        plan.make_dirs(&out_dir)?;
        for (f, to, coded) in &plan.jobs {
            let (from, to) = (input.join(&f.rel), out_dir.join(to));
            make_parent(&to)?;
            if *coded {
                match commands::compress_one(&from, &to, None, params, false, verify, &bar) {
                    Ok(o) => sum.add(&o, true),
                    // A file that looks like a model but does not parse (a
                    // half-downloaded shard) is carried over as it is, named,
                    // and fails the run after the rest is done, as a skipped
                    // file does; one that cannot even be copied stops it.
                    Err(why) => {
                        let _ = std::fs::remove_file(&to);
                        let o = copy(&from, &out_dir.join(&f.rel)).map_err(|c| format!("{why}; copying it as it is failed too: {c}"))?;
                        eprintln!("llmc: {}: not compressed ({why}); copied as it is", f.rel.display());
                        bar.set(bar.position() + o.input_bytes);
                        sum.add(&o, false);
                        not_coded += 1;
                    }
                }
            } else {
                let o = copy(&from, &to)?;
                bar.set(bar.position() + o.input_bytes);
                sum.add(&o, false);
            }
        }
        Ok::<(), String>(())
    })();
    bar.finish();
    stage.finish(result)?;
    sum.print("compressed", input, output, verify, skipped);
    Ok(DirReport { skipped, not_coded, not_coded_are: NOT_PARSED })
}

/// Rebuilds every `.llmc` file under `input` into `output` (default: `INPUT`
/// without `.llmc`), copying the rest.
pub fn decompress_dir(input: &Path, output: Option<&Path>, opts: &DecodeOptions, verify: bool, force: bool) -> Result<DirReport, String> {
    refuse_stdout(input, output)?;
    let listing = walk::walk(input)?;
    let skipped = report_walk(input, &listing);
    if nothing_to_do(input, &listing, "decompress") {
        return Ok(DirReport { skipped, not_coded: 0, not_coded_are: NOT_DECODED });
    }
    let output = &match output {
        Some(o) => o.to_path_buf(),
        None => decompressed_dir_name(input)?,
    };
    let plan = Plan::new(input, output, &listing, |f| {
        let head = first_bytes(&input.join(&f.rel))?;
        Ok(if decodes(&f.rel, &head) { (files::decompressed_name(&f.rel)?, true) } else { (f.rel.clone(), false) })
    })?;
    let stage = Staging::new(output, force)?;
    no_coded_file(input, &plan, "no llmc frame or container");
    let out_dir = stage.work.clone();
    let planned: HashSet<&Path> = plan.jobs.iter().map(|(_, to, _)| to.as_path()).collect();
    let bar = Progress::bytes(total_size(&plan.jobs), "decompressing");
    let mut sum = Summary::new();
    let mut not_coded = 0;
    let result = (|| {
        plan.make_dirs(&out_dir)?;
        for (f, to, coded) in &plan.jobs {
            let (from, to) = (input.join(&f.rel), out_dir.join(to));
            make_parent(&to)?;
            if *coded {
                match commands::decompress_one(&from, &to, opts, verify, false) {
                    Ok(o) => sum.add(&o, true),
                    Err(e) if e.output => return Err(e.message),
                    // A damaged container (a cut download) is carried over as
                    // it is, under its own name, named, and fails the run
                    // after the rest is done, as compress does with a model
                    // file that does not parse.
                    // (Unless another file decodes to that name.)
                    Err(e) if planned.contains(f.rel.as_path()) => {
                        return Err(format!("{}; it cannot be copied as it is either: another file decodes to {}", e.message, f.rel.display()))
                    }
                    Err(e) => {
                        let o = copy(&from, &out_dir.join(&f.rel)).map_err(|c| format!("{}; copying it as it is failed too: {c}", e.message))?;
                        eprintln!("llmc: {}: not decompressed ({}); copied as it is", f.rel.display(), e.message);
                        sum.add(&o, false);
                        not_coded += 1;
                    }
                }
            } else {
                sum.add(&copy(&from, &to)?, false);
            }
            bar.set(bar.position() + f.len);
        }
        Ok::<(), String>(())
    })();
    bar.finish();
    stage.finish(result)?;
    sum.print("decompressed", input, output, verify, skipped);
    Ok(DirReport { skipped, not_coded, not_coded_are: NOT_DECODED })
}

/// `ckpt/` -> `ckpt.llmc/`.
fn compressed_dir_name(input: &Path) -> PathBuf {
    files::compressed_name(&strip_slash(input))
}

fn strip_slash(p: &Path) -> PathBuf {
    p.components().collect()
}

/// `ckpt.llmc/` -> `ckpt/`.
fn decompressed_dir_name(input: &Path) -> Result<PathBuf, String> {
    files::decompressed_name(&strip_slash(input))
}

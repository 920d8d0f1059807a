//! Measures the costs issue 16 found growing wrong, on inputs of the sizes it
//! names (`cargo run --release --example hostile_costs`):
//!
//! * name lookups: 2,000 `llmc_container_find_tensor` calls in a container of
//!   131,072 entries (the target: under 0.05 ms each);
//! * the heap an open index takes against its size (the documented bound: 4x);
//! * the heap a 100 MB safetensors JSON header takes to parse (a generic JSON
//!   tree took 1.66 GB).
//!
//! A measurement, not a test: timings on shared machines vary.

use std::ffi::CString;
use std::time::Instant;

#[path = "../tests/common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::peak_of;


/// A safetensors file of `n` one-element F32 tensors with realistic names.
fn many_tensors(n: usize) -> Vec<u8> {
    let mut json = String::from("{");
    for i in 0..n {
        json.push_str(&format!("\"model.layers.{}.experts.{}.w{}.weight\":{{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[{},{}]}},", i / 4096, i % 4096 / 3, i % 3, 4 * i, 4 * i + 4));
    }
    json.pop();
    json.push('}');
    let mut file = (json.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(json.as_bytes());
    for i in 0..n {
        file.extend_from_slice(&(i as f32).to_le_bytes());
    }
    file
}

fn lookups() {
    let n = 131_072;
    let file = many_tensors(n);
    let t = Instant::now();
    let params = llmc::CompressParams { n_threads: std::thread::available_parallelism().map_or(1, |p| p.get() as u32), ..Default::default() };
    let container = llmc::model::compress(&file, &params, None).unwrap();
    eprintln!("container of {n} entries: {} bytes, built in {:.1} s", container.len(), t.elapsed().as_secs_f64());
    let index_size = u64::from_le_bytes(container[24..32].try_into().unwrap()) as usize;
    let mut g = std::ptr::null_mut();
    let t = Instant::now();
    let (status, peak) = peak_of(|| {
        // SAFETY: `container` outlives the handle, closed below.
        unsafe { llmc::ffi::container::llmc_container_open_buffer(container.as_ptr().cast(), container.len(), 0, &mut g) }
    });
    assert_eq!(status, 0);
    println!("open: {:.1} ms; heap {peak} bytes for an index of {index_size} bytes ({:.2}x; bound 4x)", t.elapsed().as_secs_f64() * 1e3, peak as f64 / index_size as f64);
    // 2,000 names spread over the container, plus misses.
    let names: Vec<CString> = (0..2000)
        .map(|k| {
            let i = k * 65 % n;
            CString::new(format!("model.layers.{}.experts.{}.w{}.weight", i / 4096, i % 4096 / 3, i % 3)).unwrap()
        })
        .collect();
    let mut found = 0u64;
    let t = Instant::now();
    for name in &names {
        let mut i = 0u64;
        // SAFETY: live handle, valid C string and out-pointer.
        if unsafe { llmc::ffi::container::llmc_container_find_tensor(g, name.as_ptr(), &mut i) } == 0 {
            found += 1;
        }
    }
    let per = t.elapsed().as_secs_f64() / names.len() as f64;
    assert_eq!(found, names.len() as u64);
    println!("find: {} lookups in {n} entries, {:.2} us each (target < 50 us)", names.len(), per * 1e6);
    // SAFETY: opened above, closed once.
    unsafe { llmc::ffi::container::llmc_container_close(g) };
}

fn header_100mb() {
    // About 100 MB of JSON: tensors with 8-dimension shapes and long names.
    let mut json = String::from("{");
    let mut i = 0usize;
    while json.len() < 99_900_000 {
        json.push_str(&format!("\"blk.{i}.ffn_gate_exps.weight\":{{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1],\"data_offsets\":[{i},{}]}},", i + 1));
        i += 1;
    }
    json.pop();
    json.push('}');
    let mut file = (json.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(json.as_bytes());
    file.resize(file.len() + i, 0);
    let t = Instant::now();
    let (st, peak) = peak_of(|| llmc::model::safetensors::parse(&file));
    let st = st.unwrap();
    println!(
        "safetensors header of {} bytes ({} tensors): parsed in {:.2} s, heap {peak} bytes ({:.2}x its size)",
        json.len(),
        st.tensors.len(),
        t.elapsed().as_secs_f64(),
        peak as f64 / json.len() as f64
    );
}

fn main() {
    lookups();
    header_100mb();
}

//! `llmc::model::read_outline` (what `llmc info -` reads from a pipe) against
//! `Index::open` on the whole bytes: the same outline for every container of
//! the corrupt-input corpus that opens, an error (never a panic) for the rest,
//! and an error for every cut of a current container.

mod common;
use common::*;
use llmc::model::{read_outline, Index, Outline};

/// `bytes` read front to back, as from a pipe.
fn outline_of(bytes: &[u8], _name: &str) -> llmc::Result<Outline> {
    read_outline(bytes)
}

fn same(a: &Outline, b: &Outline) -> bool {
    let entries = |o: &Outline| o.entries.iter().map(|e| (e.region, e.dtype, e.shape.to_vec(), e.name.to_string())).collect::<Vec<_>>();
    (a.kind, a.version, a.original_size, a.size, a.regions.len()) == (b.kind, b.version, b.original_size, b.size, b.regions.len())
        && a.regions.iter().zip(&b.regions).all(|(x, y)| format!("{x:?}") == format!("{y:?}"))
        && entries(a) == entries(b)
}

#[test]
fn corpus_containers_outline_as_they_open() {
    let mut opened = 0;
    for entry in std::fs::read_dir(fixtures_dir().join("corrupt")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "llmc") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let data = std::fs::read(&path).unwrap();
        let streamed = outline_of(&data, &name);
        match Index::open(&data) {
            Ok(index) => {
                let whole = Outline::of(&index, data.len() as u64);
                assert!(streamed.as_ref().is_ok_and(|o| same(o, &whole)), "{name}: {streamed:?}");
                opened += 1;
            }
            // A container with bytes after it outlines (the caller then finds
            // the bytes); anything else the open refuses, the outline refuses.
            Err(e) => {
                if let Ok(o) = &streamed {
                    let head = &data[..o.size as usize];
                    assert!(o.size < data.len() as u64 && Index::open(head).is_ok(), "{name}: open {e:?}, outline {o:?}");
                }
            }
        }
    }
    assert!(opened >= 3, "only {opened} corpus containers open");
}

#[test]
fn every_cut_of_a_container_is_refused() {
    let original = fixture("corrupt/model.gguf");
    let container = llmc::model::compress(&original, &Default::default(), None).unwrap();
    let whole = outline_of(&container, "whole").unwrap();
    assert!(same(&whole, &Outline::of(&Index::open(&container).unwrap(), container.len() as u64)));
    assert_eq!(whole.original_size, original.len() as u64);
    let step = (container.len() / 400).max(1);
    for cut in (0..container.len()).step_by(step).chain([container.len() - 1]) {
        let r = outline_of(&container[..cut], "cut");
        assert!(r.is_err(), "a cut at {cut} of {} outlined", container.len());
    }
}

//! Debug symbols stripped from an ELF shared object, as `strip
//! --strip-unneeded` strips a library: the `.debug_*` sections, the static
//! symbol table (`.symtab`, `.strtab`, `.symtab_shndx`) and the static
//! relocations of non-loaded sections go; every loaded section stays at its
//! address and offset, and the dynamic symbols (`.dynsym`, `.dynstr`, the
//! hash tables, the versions), `.dynamic` and the notes stay, so the
//! dynamic loader sees the same library.
//!
//! Why `--strip-unneeded` and not `--strip-debug`: the loader never reads
//! `.symtab`; it only names internal functions in a debugger or a native
//! backtrace, which a Lambda function does not run. It is often as large as
//! the debug sections of a library built without `-g`, and keeping it would
//! leave most of the saving on the table.
//!
//! The rewrite is object's ELF builder (`object::build::elf`), reading the
//! file through a memory map and writing the result as a stream. The result
//! is read back and must have the same dynamic symbols; anything the
//! builder cannot read or write, or a check that fails, leaves the file as
//! it is: stripping is a saving, never an error.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read};
use std::path::Path;

use object::build::elf::{Builder, SectionData};
use object::elf;
use object::write::StreamingBuffer;

/// What stripping one file did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `dst` holds the stripped library.
    Stripped { before: u64, after: u64 },
    /// Nothing was written: not an ELF shared object the builder reads, or
    /// nothing to strip, or the result did not check out.
    Unchanged,
}

/// Whether `data` starts with the ELF magic.
fn is_elf(path: &Path) -> io::Result<bool> {
    let mut magic = [0u8; 4];
    let mut f = File::open(path)?;
    match f.read_exact(&mut magic) {
        Ok(()) => Ok(magic == elf::ELFMAG),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// `path` mapped read-only.
fn map(path: &Path) -> io::Result<memmap2::Mmap> {
    let file = File::open(path)?;
    // SAFETY: the files mapped are the installed tree's (in the package
    // cache, or a temporary directory of this process) and the file this
    // module has just written; nothing writes them while they are mapped.
    unsafe { memmap2::Mmap::map(&file) }
}

/// The names of the dynamic symbols, sorted: what the loader resolves.
fn dynamic_names(builder: &Builder<'_>) -> Vec<Vec<u8>> {
    let mut names: Vec<Vec<u8>> = builder
        .dynamic_symbols
        .iter()
        .map(|s| s.name.to_vec())
        .collect();
    names.sort();
    names
}

/// Marks what `--strip-unneeded` removes from a shared object; `false`
/// when there is nothing to remove.
fn mark(builder: &mut Builder<'_>) -> bool {
    let mut any = false;
    for section in builder.sections.iter_mut() {
        if section.is_alloc() {
            continue;
        }
        let debug = section.name.starts_with(b".debug_") || section.name.starts_with(b".zdebug_");
        let static_symbols = matches!(
            section.data,
            SectionData::Symbol | SectionData::String | SectionData::SymbolSectionIndex
        );
        // Static relocations: for the debug sections, or left by
        // `--emit-relocs`; the loader uses the dynamic ones only.
        let relocations = matches!(section.data, SectionData::Relocation(_));
        if debug || static_symbols || relocations {
            section.delete = true;
            any = true;
        }
    }
    for symbol in builder.symbols.iter_mut() {
        symbol.delete = true;
        any = true;
    }
    any
}

/// Writes `src` stripped to the new file `dst` and gives it `src`'s
/// permissions; [`Outcome::Unchanged`] (and no `dst`) when `src` is not a
/// shared object this can strip. An I/O error is one reading `src` or
/// writing `dst`.
pub fn strip(src: &Path, dst: &Path) -> io::Result<Outcome> {
    if !is_elf(src)? {
        return Ok(Outcome::Unchanged);
    }
    let input = map(src)?;
    let before = input.len() as u64;
    let Ok(mut builder) = Builder::read(&*input) else {
        return Ok(Outcome::Unchanged);
    };
    if builder.header.e_type != elf::ET_DYN || !mark(&mut builder) {
        return Ok(Outcome::Unchanged);
    }
    let want = dynamic_names(&builder);
    let mut out = StreamingBuffer::new(BufWriter::new(File::create(dst)?));
    let written = builder.write(&mut out);
    let io = out
        .flush()
        .and_then(|()| out.into_inner().into_inner().map_err(|e| e.into_error()))
        .and_then(|f| f.sync_all());
    let checked = match (written, io) {
        (Ok(()), Ok(())) => check(dst, &want, before),
        (_, Err(e)) => {
            let _ = fs::remove_file(dst);
            return Err(e);
        }
        (Err(e), Ok(())) => {
            tracing::debug!(file = %src.display(), error = %e, "kept unstripped");
            None
        }
    };
    match checked {
        Some(after) => {
            fs::set_permissions(dst, fs::metadata(src)?.permissions())?;
            Ok(Outcome::Stripped { before, after })
        }
        None => {
            let _ = fs::remove_file(dst);
            Ok(Outcome::Unchanged)
        }
    }
}

/// The size of the stripped file `dst` when it reads back as a shared
/// object with the dynamic symbols `want` and is smaller than `before`.
fn check(dst: &Path, want: &[Vec<u8>], before: u64) -> Option<u64> {
    let output = map(dst).ok()?;
    let after = output.len() as u64;
    let read = Builder::read(&*output).ok()?;
    let ok = read.header.e_type == elf::ET_DYN && dynamic_names(&read) == want && after < before;
    if !ok {
        tracing::debug!(file = %dst.display(), "the stripped library did not check out");
    }
    ok.then_some(after)
}

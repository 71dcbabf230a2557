//! Writing output files atomically: into a temporary file beside the target,
//! flushed and synced, then renamed into place. A failure leaves neither a
//! partial file at the target nor the temporary file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The directory a file at `path` goes into.
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes `path` through `write`, atomically.
///
/// # Errors
/// The I/O error of creating, writing, syncing or renaming, or `E` from `write`
/// (converted), in which case nothing is left behind.
pub(crate) fn write_atomically<E: From<std::io::Error>>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&File>) -> Result<(), E>,
) -> Result<(), E> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".carescore-").suffix(".part");
    // Temporary files are private by default; outputs are ordinary files.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    // Dropped (and deleted) on any early return below.
    let temp = builder.tempfile_in(parent_dir(path))?;
    let mut writer = BufWriter::new(temp.as_file());
    write(&mut writer)?;
    writer.flush()?;
    drop(writer);
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

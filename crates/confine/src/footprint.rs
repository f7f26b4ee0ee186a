//! A pooled worker's memory while it waits: the pages of its own code and
//! constants that start-up touched are given back, to be faulted in again only
//! if a call needs them.

use std::ffi::c_void;

/// Read-only `PT_LOAD` segments of the executable: (start, end) addresses.
fn read_only_segments() -> Vec<(usize, usize)> {
    /// Called by `dl_iterate_phdr` for each loaded object; the first is the
    /// executable, and the walk stops there.
    unsafe extern "C" fn each(
        info: *mut libc::dl_phdr_info,
        _size: usize,
        data: *mut c_void,
    ) -> libc::c_int {
        // SAFETY: dl_iterate_phdr passes a valid dl_phdr_info for the duration of
        // the call, and `data` is the `&mut Vec` given below, unaliased meanwhile.
        let (info, out) = unsafe { (&*info, &mut *data.cast::<Vec<(usize, usize)>>()) };
        for i in 0..usize::from(info.dlpi_phnum) {
            // SAFETY: dlpi_phdr points to dlpi_phnum program headers.
            let ph = unsafe { &*info.dlpi_phdr.add(i) };
            if ph.p_type == libc::PT_LOAD && ph.p_flags & libc::PF_W == 0 {
                let start = info.dlpi_addr as usize + ph.p_vaddr as usize;
                out.push((start, start + ph.p_memsz as usize));
            }
        }
        1
    }
    let mut out: Vec<(usize, usize)> = Vec::new();
    // SAFETY: the callback only reads the headers it is given and writes to `out`,
    // which outlives the call.
    unsafe {
        libc::dl_iterate_phdr(Some(each), (&raw mut out).cast::<c_void>());
    }
    out
}

/// Drops this process's mappings of the pages of its executable's read-only
/// segments (code, constants): they are file-backed and never written, so a
/// later access faults the same bytes in again from the page cache. A lone idle
/// pooled worker no longer holds every page its start-up touched.
pub fn release_code_pages() {
    let page = 4096usize;
    for (start, end) in read_only_segments() {
        let (start, end) = (start.div_ceil(page) * page, end / page * page);
        if end <= start {
            continue;
        }
        // SAFETY: MADV_DONTNEED on a private, file-backed, never-written range of
        // this executable (no PF_W, so never relocated): its contents come back
        // unchanged from the file on the next access; no Rust reference is
        // invalidated.
        unsafe {
            libc::madvise(start as *mut c_void, end - start, libc::MADV_DONTNEED);
        }
    }
}

//! The allocator the `sim` binary, its benches and its profiling examples run with: mimalloc,
//! called through its plain entry points wherever the plain ones give the alignment asked for.
//!
//! The `mimalloc` crate's `GlobalAlloc` sends every request through `mi_malloc_aligned`, which
//! checks the alignment on each call before it reaches the same fast path; a fuzz run makes
//! about 9,000 allocations and 800 reallocations, so that check was about 2% of its
//! instructions. Allocation never reaches what a run observes, so no trace hash depends on it.

use libmimalloc_sys::{
    mi_free, mi_malloc, mi_malloc_aligned, mi_realloc, mi_realloc_aligned, mi_zalloc,
    mi_zalloc_aligned,
};
use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

/// The alignment mimalloc gives every block at least this large (its `MI_MAX_ALIGN_SIZE` on
/// 64-bit targets); a smaller block is aligned to its size.
const NATURAL_ALIGN: usize = 16;

/// mimalloc as the global allocator: `#[global_allocator] static A: Mimalloc = Mimalloc;`.
pub struct Mimalloc;

/// Whether a plain mimalloc block of `size` bytes is aligned enough for `align`: the rule
/// std's own allocator applies to `malloc`.
fn plain_is_aligned(align: usize, size: usize) -> bool {
    align <= NATURAL_ALIGN && align <= size
}

// SAFETY: every pointer handed out comes from mimalloc with at least the layout's size and
// alignment (plain entry points only where `plain_is_aligned` holds), and every pointer taken
// back goes to mimalloc, which frees or resizes any block it made, aligned or not.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if plain_is_aligned(layout.align(), layout.size()) {
            // SAFETY: mimalloc takes any size; the block is aligned as checked above.
            unsafe { mi_malloc(layout.size()) as *mut u8 }
        } else {
            // SAFETY: a layout's alignment is a power of two, as mimalloc requires.
            unsafe { mi_malloc_aligned(layout.size(), layout.align()) as *mut u8 }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if plain_is_aligned(layout.align(), layout.size()) {
            // SAFETY: as in `alloc`.
            unsafe { mi_zalloc(layout.size()) as *mut u8 }
        } else {
            // SAFETY: as in `alloc`.
            unsafe { mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8 }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator, so from mimalloc.
        unsafe { mi_free(ptr as *mut c_void) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if plain_is_aligned(layout.align(), new_size) {
            // SAFETY: `ptr` came from mimalloc; the new block is aligned as checked above.
            unsafe { mi_realloc(ptr as *mut c_void, new_size) as *mut u8 }
        } else {
            // SAFETY: as above, keeping the layout's alignment.
            unsafe { mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8 }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks of every small size and alignment come back aligned, keep their contents when
    /// they grow or shrink, and zeroed ones are zero (the test binary runs on the system
    /// allocator, so this calls `Mimalloc` directly).
    #[test]
    fn blocks_are_aligned_zeroed_and_keep_their_contents() {
        let a = Mimalloc;
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1, 3, 8, 15, 16, 17, 48, 100, 5000] {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: a non-zero size; each block is freed once, by this allocator.
                unsafe {
                    let p = a.alloc(layout);
                    assert!(
                        !p.is_null() && (p as usize).is_multiple_of(align),
                        "{size} {align}"
                    );
                    std::ptr::write_bytes(p, 0xab, size);
                    let grown = a.realloc(p, layout, size * 3);
                    assert!(
                        (grown as usize).is_multiple_of(align),
                        "grown {size} {align}"
                    );
                    assert!((0..size).all(|i| *grown.add(i) == 0xab));
                    let shrunk = a.realloc(grown, layout, size.div_ceil(2));
                    assert!(
                        (shrunk as usize).is_multiple_of(align),
                        "shrunk {size} {align}"
                    );
                    assert!((0..size.div_ceil(2)).all(|i| *shrunk.add(i) == 0xab));
                    a.dealloc(shrunk, layout);
                    let z = a.alloc_zeroed(layout);
                    assert!((z as usize).is_multiple_of(align), "zeroed {size} {align}");
                    assert!((0..size).all(|i| *z.add(i) == 0));
                    a.dealloc(z, layout);
                }
            }
        }
    }

    #[test]
    fn plain_blocks_only_where_mimalloc_aligns_them() {
        assert!(plain_is_aligned(8, 8));
        assert!(plain_is_aligned(16, 16));
        assert!(plain_is_aligned(1, 1));
        assert!(!plain_is_aligned(16, 8));
        assert!(!plain_is_aligned(32, 64));
    }
}

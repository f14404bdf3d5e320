//! The `capi` target: the C boundary (`losskit_capi`'s `extern "C"` functions) with
//! arbitrary lengths, NULL pointers, misaligned pointers, and every pointer an offset into
//! one buffer, so that arguments overlap: a pointwise loss (`mse`, f32 and f64, value and
//! gradient), a pointwise loss with a parameter (`huber`, per-element values), the
//! auxiliary-input loss (`gaussian_nll`, both gradients, the second optional), a row loss
//! (`cross_entropy` with every option, and in place), and a row utility (`softmax`).
//!
//! Checked: no panic or abort; the status is the documented one — the pointer checks in
//! argument order (`NULL_POINTER` for a NULL array of nonzero length or a NULL scalar,
//! `MISALIGNED`, `INVALID_PARAMETER` for a byte size beyond `isize::MAX` or rows × classes
//! overflowing), then `ALIASING` when an output overlaps any other argument, then flags and
//! options, then exactly the status of the Rust API on the same data — and the buffer after
//! the call is byte for byte what the Rust API leaves in those slices (nothing written on a
//! pointer or option error). Lengths that reach beyond the buffer are only used where the
//! size check rejects them before any slice is formed.

use super::input::Input;
use losskit::prelude::*;
use losskit_capi::generated as c;
use losskit_capi::losskit_status as Status;

/// The buffer every pointer points into, in bytes.
const ARENA: usize = 2048;

/// How a pointer argument is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Input,
    OptionalInput,
    Output,
    OptionalOutput,
    Scalar,
}

/// One pointer argument: NULL or a byte offset into the arena, its length in elements and
/// its element size.
#[derive(Clone, Copy, Debug)]
struct Arg {
    at: Option<usize>,
    len: usize,
    size: usize,
    kind: Kind,
}

impl Arg {
    fn out(&self) -> bool {
        matches!(
            self.kind,
            Kind::Output | Kind::OptionalOutput | Kind::Scalar
        )
    }
    fn bytes(&self) -> usize {
        self.len.saturating_mul(self.size)
    }
}

/// The status the pointer checks give (in argument order, then overlap), if any.
fn pointer_status(args: &[Arg]) -> Option<Status> {
    let mut regions = Vec::new();
    for a in args {
        let Some(at) = a.at else {
            let allowed = match a.kind {
                Kind::OptionalInput | Kind::OptionalOutput => true,
                Kind::Scalar => false,
                _ => a.len == 0,
            };
            if allowed {
                continue;
            }
            return Some(Status::NullPointer);
        };
        if at % a.size != 0 {
            return Some(Status::Misaligned);
        }
        let len = if a.kind == Kind::Scalar { 1 } else { a.len };
        match len.checked_mul(a.size) {
            Some(b) if b <= isize::MAX as usize => regions.push((at, b, a.out())),
            _ => return Some(Status::InvalidParameter),
        }
    }
    for (i, &(s, b, o)) in regions.iter().enumerate() {
        for &(s2, b2, o2) in &regions[i + 1..] {
            if b > 0 && b2 > 0 && s < s2 + b2 && s2 < s + b && (o || o2) {
                return Some(Status::Aliasing);
            }
        }
    }
    None
}

/// `b` as an output written or added into.
fn out_mode<F: Float>(b: &mut [F], add: bool) -> Out<'_, F> {
    if add { Out::add(b) } else { Out::write(b) }
}

/// The status the C API maps an error to.
fn status_of(r: &losskit::Result<()>) -> Status {
    match r {
        Ok(()) => Status::Ok,
        Err(Error::LengthMismatch { .. }) => Status::LengthMismatch,
        Err(Error::Empty) => Status::Empty,
        Err(Error::InvalidParameter { .. }) => Status::InvalidParameter,
        Err(Error::InvalidInput { .. }) => Status::InvalidInput,
        Err(Error::LabelOutOfRange { .. }) => Status::LabelOutOfRange,
        Err(Error::NonFinite { .. }) => Status::NonFinite,
        Err(_) => Status::Internal,
    }
}

/// The arena, 8-byte aligned, and typed views of its bytes (for the Rust side of the
/// comparison, on a copy).
struct Arena {
    words: Vec<u64>,
}

trait Elem: Float {
    const SIZE: usize;
    fn get(bytes: &[u8], at: usize) -> Self;
    fn put(self, bytes: &mut [u8], at: usize);
}

impl Elem for f32 {
    const SIZE: usize = 4;
    fn get(b: &[u8], at: usize) -> Self {
        f32::from_ne_bytes(b[at..at + 4].try_into().expect("4 bytes"))
    }
    fn put(self, b: &mut [u8], at: usize) {
        b[at..at + 4].copy_from_slice(&self.to_ne_bytes());
    }
}

impl Elem for f64 {
    const SIZE: usize = 8;
    fn get(b: &[u8], at: usize) -> Self {
        f64::from_ne_bytes(b[at..at + 8].try_into().expect("8 bytes"))
    }
    fn put(self, b: &mut [u8], at: usize) {
        b[at..at + 8].copy_from_slice(&self.to_ne_bytes());
    }
}

impl Arena {
    fn bytes(&self) -> Vec<u8> {
        self.words.iter().flat_map(|w| w.to_ne_bytes()).collect()
    }
    fn ptr<T>(&mut self, a: &Arg) -> *mut T {
        match a.at {
            // SAFETY: in bounds of the arena (or one past its end for an empty region),
            // or never dereferenced (a size the checks reject).
            Some(at) => unsafe {
                self.words
                    .as_mut_ptr()
                    .cast::<u8>()
                    .add(at.min(ARENA))
                    .cast()
            },
            None => core::ptr::null_mut(),
        }
    }
}

/// Reads `a`'s elements from a byte copy of the arena (empty for NULL).
fn read<F: Elem>(bytes: &[u8], a: &Arg) -> Vec<F> {
    match a.at {
        Some(at) => (0..a.len)
            .map(|i| F::get(bytes, at + i * F::SIZE))
            .collect(),
        None => Vec::new(),
    }
}

/// Writes `v` at `a` into a byte copy of the arena.
fn write<F: Elem>(bytes: &mut [u8], a: &Arg, v: &[F]) {
    if let Some(at) = a.at {
        for (i, x) in v.iter().enumerate() {
            x.put(bytes, at + i * F::SIZE);
        }
    }
}

fn read_i64(bytes: &[u8], a: &Arg) -> Vec<i64> {
    match a.at {
        Some(at) => (0..a.len)
            .map(|i| i64::from_ne_bytes(bytes[at + 8 * i..at + 8 * i + 8].try_into().expect("8")))
            .collect(),
        None => Vec::new(),
    }
}

/// Draws a pointer to `len` elements of `size` bytes: NULL, an aligned offset that fits
/// the arena (often equal or next to one already drawn, so that they overlap), or a
/// misaligned one. A length that cannot fit is kept only when its byte size overflows
/// (the checks reject it before forming a slice); otherwise it is shortened to fit.
fn arg(inp: &mut Input<'_>, drawn: &[Arg], len: usize, size: usize, kind: Kind) -> Arg {
    let huge = len
        .checked_mul(size)
        .is_none_or(|b| b > isize::MAX as usize);
    let room = if huge || kind == Kind::Scalar {
        ARENA - 8
    } else {
        ARENA - len * size
    };
    let at = match inp.byte() % 16 {
        0 => None,
        1 => Some((inp.below(room / size + 1) * size + 1 + inp.below(size - 1)).min(room)),
        2..=5 if !drawn.is_empty() => {
            let other = drawn[inp.below(drawn.len())];
            other.at.map(|o| {
                let shifted = o + inp.below(3) * size;
                (shifted - shifted % size).min(room - room % size)
            })
        }
        _ => Some(inp.below(room / size + 1) * size),
    };
    Arg {
        at,
        len,
        size,
        kind,
    }
}

/// A length: small, zero, or one whose byte size overflows.
fn length(inp: &mut Input<'_>) -> usize {
    match inp.byte() {
        0..=5 => usize::MAX / 2 + inp.below(3),
        6..=15 => 0,
        _ => 1 + inp.below(40),
    }
}

/// A mode or option code: mostly valid, sometimes not.
fn code(inp: &mut Input<'_>, valid: i32) -> i32 {
    if inp.chance(12) {
        inp.pick(&[-1, valid, valid + 1, i32::MAX, i32::MIN])
    } else {
        inp.below(valid as usize) as i32
    }
}

fn reduction_of(code: i32, divisor: f64) -> Option<Reduction> {
    match code {
        0 => Some(Reduction::Mean),
        1 => Some(Reduction::Sum),
        2 => Some(Reduction::Divisor(divisor)),
        _ => None,
    }
}

/// Runs the check on one fuzz input.
pub fn run(data: &[u8]) {
    let mut inp = Input::new(data);
    let mut arena = Arena {
        words: vec![0; ARENA / 8],
    };
    // Fill the arena with numbers (as f32 or f64 pairs), biased as every target's inputs.
    let f64_fill = inp.chance(128);
    let clean = inp.chance(200);
    let mut bytes = arena.bytes();
    let mut i = 0;
    while i < ARENA {
        let x = inp.real();
        let x = if clean && !x.is_finite() { 0.5 } else { x };
        if f64_fill {
            x.put(&mut bytes, i);
            i += 8;
        } else {
            (x as f32).put(&mut bytes, i);
            i += 4;
        }
    }
    for (w, chunk) in arena.words.iter_mut().zip(bytes.chunks(8)) {
        *w = u64::from_ne_bytes(chunk.try_into().expect("8"));
    }
    match inp.below(7) {
        0 => mse::<f32>(&mut inp, &mut arena),
        1 => mse::<f64>(&mut inp, &mut arena),
        2 => huber(&mut inp, &mut arena),
        3 => gaussian_nll(&mut inp, &mut arena),
        4 => cross_entropy(&mut inp, &mut arena, false),
        5 => cross_entropy(&mut inp, &mut arena, true),
        _ => softmax(&mut inp, &mut arena),
    }
}

/// Compares a C call's status and buffer with the expected ones.
fn compare(what: &str, args: &[Arg], got: Status, want: Status, after: &[u8], expected: &[u8]) {
    assert_eq!(got, want, "{what}: status, arguments {args:?}");
    if after != expected {
        let first = after
            .iter()
            .zip(expected)
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{what}: the buffer differs from the Rust API's at byte {first} (status {got:?}), arguments {args:?}"
        );
    }
}

fn mse<F: Elem>(inp: &mut Input<'_>, arena: &mut Arena) {
    let len = length(inp);
    let mut args: Vec<Arg> = Vec::new();
    for kind in [
        Kind::Input,
        Kind::Input,
        Kind::OptionalInput,
        Kind::Output,
        Kind::Scalar,
    ] {
        let a = arg(inp, &args, len, F::SIZE, kind);
        args.push(a);
    }
    let (reduction, divisor, mode) = (code(inp, 3), inp.param(2.0), code(inp, 2));
    let before = arena.bytes();
    let mut expected = before.clone();
    let want = match pointer_status(&args) {
        Some(s) => s,
        None => match (reduction_of(reduction, divisor), mode) {
            (Some(r), 0 | 1) => {
                let (p, t) = (read::<F>(&before, &args[0]), read::<F>(&before, &args[1]));
                let w = args[2].at.map(|_| read::<F>(&before, &args[2]));
                let mut g = read::<F>(&before, &args[3]);
                let out = if mode == 1 {
                    Out::add(&mut g[..])
                } else {
                    Out::write(&mut g[..])
                };
                let res = Mse.value_and_grad(&p, &t, w.as_deref(), r, out);
                write(&mut expected, &args[3], &g);
                if let Ok(v) = res {
                    write(&mut expected, &args[4], &[v]);
                }
                status_of(&res.map(drop))
            }
            _ => Status::InvalidParameter,
        },
    };
    let (p, t, w, g, v) = (
        arena.ptr::<F>(&args[0]),
        arena.ptr::<F>(&args[1]),
        arena.ptr::<F>(&args[2]),
        arena.ptr::<F>(&args[3]),
        arena.ptr::<F>(&args[4]),
    );
    // SAFETY: every non-NULL pointer is in the arena for its length, or has a length whose
    // byte size the checks reject before use.
    let got = unsafe {
        if F::SIZE == 4 {
            c::losskit_mse_value_and_grad_f32(
                p.cast(),
                t.cast(),
                w.cast(),
                len,
                reduction,
                divisor,
                mode,
                g.cast(),
                v.cast(),
            )
        } else {
            c::losskit_mse_value_and_grad_f64(
                p.cast(),
                t.cast(),
                w.cast(),
                len,
                reduction,
                divisor,
                mode,
                g.cast(),
                v.cast(),
            )
        }
    };
    compare(
        "mse_value_and_grad",
        &args,
        got,
        want,
        &arena.bytes(),
        &expected,
    );
}

fn huber(inp: &mut Input<'_>, arena: &mut Arena) {
    let len = length(inp);
    let mut args: Vec<Arg> = Vec::new();
    for kind in [Kind::Input, Kind::Input, Kind::OptionalInput, Kind::Output] {
        let a = arg(inp, &args, len, 4, kind);
        args.push(a);
    }
    let delta = inp.param(1.0);
    let before = arena.bytes();
    let mut expected = before.clone();
    let want = pointer_status(&args).unwrap_or_else(|| {
        let (p, t) = (
            read::<f32>(&before, &args[0]),
            read::<f32>(&before, &args[1]),
        );
        let w = args[2].at.map(|_| read::<f32>(&before, &args[2]));
        let mut o = read::<f32>(&before, &args[3]);
        let res = Huber { delta }.value_elementwise(&p, &t, w.as_deref(), &mut o);
        write(&mut expected, &args[3], &o);
        status_of(&res)
    });
    let ptrs: Vec<*mut f32> = args.iter().map(|a| arena.ptr(a)).collect();
    // SAFETY: as in `mse`.
    let got = unsafe {
        c::losskit_huber_value_elementwise_f32(ptrs[0], ptrs[1], ptrs[2], len, delta, ptrs[3])
    };
    compare(
        "huber_value_elementwise_f32",
        &args,
        got,
        want,
        &arena.bytes(),
        &expected,
    );
}

fn gaussian_nll(inp: &mut Input<'_>, arena: &mut Arena) {
    let len = length(inp);
    let mut args: Vec<Arg> = Vec::new();
    for kind in [
        Kind::Input,
        Kind::Input,
        Kind::Input,
        Kind::Output,
        Kind::OptionalOutput,
    ] {
        let a = arg(inp, &args, len, 8, kind);
        args.push(a);
    }
    let (full, eps) = (code(inp, 2), inp.param(1e-6));
    let (reduction, divisor, mode) = (code(inp, 3), inp.param(2.0), code(inp, 2));
    let before = arena.bytes();
    let mut expected = before.clone();
    let want = match pointer_status(&args) {
        Some(s) => s,
        None => match (reduction_of(reduction, divisor), mode, full) {
            (Some(r), 0 | 1, 0 | 1) => {
                let read3 = |i: usize| read::<f64>(&before, &args[i]);
                let (p, t, v) = (read3(0), read3(1), read3(2));
                let (mut g, mut gv) = (read3(3), read3(4));
                let loss = GaussianNll {
                    full: full == 1,
                    eps,
                };
                let gv_out = args[4].at.map(|_| out_mode(&mut gv, mode == 1));
                let res = loss.grad(&p, &t, &v, r, out_mode(&mut g, mode == 1), gv_out);
                write(&mut expected, &args[3], &g);
                write(&mut expected, &args[4], &gv);
                status_of(&res)
            }
            _ => Status::InvalidParameter,
        },
    };
    let ptrs: Vec<*mut f64> = args.iter().map(|a| arena.ptr(a)).collect();
    // SAFETY: as in `mse`.
    let got = unsafe {
        c::losskit_gaussian_nll_grad_f64(
            ptrs[0], ptrs[1], ptrs[2], len, full, eps, reduction, divisor, mode, ptrs[3], ptrs[4],
        )
    };
    compare(
        "gaussian_nll_grad_f64",
        &args,
        got,
        want,
        &arena.bytes(),
        &expected,
    );
}

fn cross_entropy(inp: &mut Input<'_>, arena: &mut Arena, in_place: bool) {
    let (rows, classes) = match inp.byte() {
        0..=5 => (usize::MAX / 2, 3),
        6..=11 => (0, 1 + inp.below(5)),
        12..=17 => (1 + inp.below(5), 0),
        _ => (1 + inp.below(6), 1 + inp.below(12)),
    };
    let n = rows.checked_mul(classes);
    let size = if in_place { 8 } else { 4 };
    let mut args: Vec<Arg> = Vec::new();
    let x_kind = if in_place { Kind::Output } else { Kind::Input };
    let nn = n.unwrap_or(usize::MAX);
    for (len, sz, kind) in [
        (nn, size, x_kind),
        (rows, 8, Kind::Input),
        (classes, size, Kind::OptionalInput),
    ] {
        let a = arg(inp, &args, len, sz, kind);
        args.push(a);
    }
    if !in_place {
        let a = arg(inp, &args, nn, size, Kind::Output);
        args.push(a);
    }
    let a = arg(inp, &args, 1, size, Kind::Scalar);
    args.push(a);
    // Labels: small integers written over the labels' region (when it fits).
    if let Some(at) = args[1].at
        && args[1].bytes() <= ARENA
        && at % 8 == 0
    {
        let mut b = arena.bytes();
        for i in 0..args[1].len {
            let l: i64 = match inp.byte() % 8 {
                0 => -100,
                1 => classes as i64,
                2 => -1,
                _ => inp.below(classes.max(1)) as i64,
            };
            b[at + 8 * i..at + 8 * i + 8].copy_from_slice(&l.to_ne_bytes());
        }
        for (w, chunk) in arena.words.iter_mut().zip(b.chunks(8)) {
            *w = u64::from_ne_bytes(chunk.try_into().expect("8"));
        }
    }
    let ignore_index = inp.pick(&[-100i64, 0, 1, -1]);
    let use_ignore = code(inp, 2);
    let smoothing = if inp.chance(128) { inp.param(0.1) } else { 0.0 };
    let unmasked = code(inp, 2);
    let z_loss = if inp.chance(64) { inp.param(1e-4) } else { 0.0 };
    let softcap = if inp.chance(48) { inp.param(30.0) } else { 0.0 };
    let (reduction, divisor, mode) = (code(inp, 3), inp.param(2.0), code(inp, 2));
    let before = arena.bytes();
    let mut expected = before.clone();
    let want = match (n, pointer_status(&args)) {
        (None, _) => Status::InvalidParameter,
        (_, Some(s)) => s,
        (Some(_), None) => {
            let r = reduction_of(reduction, divisor).filter(|r| r.scale(1).is_ok());
            let flags_ok = matches!(use_ignore, 0 | 1) && matches!(unmasked, 0 | 1);
            match (r, flags_ok, in_place || matches!(mode, 0 | 1)) {
                (Some(r), true, true) => {
                    let labels = read_i64(&before, &args[1]);
                    macro_rules! run {
                        ($f:ty) => {{
                            let w = args[2].at.map(|_| read::<$f>(&before, &args[2]));
                            let loss = CrossEntropy {
                                class_weights: w.as_deref(),
                                ignore_index: (use_ignore == 1).then_some(ignore_index),
                                label_smoothing: smoothing,
                                smooth_unmasked_only: unmasked == 1,
                                z_loss,
                                softcap: (softcap != 0.0).then_some(softcap),
                            };
                            let res = if in_place {
                                let mut x = read::<$f>(&before, &args[0]);
                                let res =
                                    loss.value_and_grad_in_place(&mut x, classes, &labels[..], r);
                                write(&mut expected, &args[0], &x);
                                res
                            } else {
                                let x = read::<$f>(&before, &args[0]);
                                let mut g = read::<$f>(&before, &args[3]);
                                let out = if mode == 1 {
                                    Out::add(&mut g[..])
                                } else {
                                    Out::write(&mut g[..])
                                };
                                let res = loss.value_and_grad(&x, classes, &labels[..], r, out);
                                write(&mut expected, &args[3], &g);
                                res
                            };
                            if let Ok(v) = res {
                                write(&mut expected, args.last().expect("value_out"), &[v]);
                            }
                            status_of(&res.map(drop))
                        }};
                    }
                    if in_place { run!(f64) } else { run!(f32) }
                }
                _ => Status::InvalidParameter,
            }
        }
    };
    let vo = *args.last().expect("value_out");
    // SAFETY: as in `mse`.
    let got = unsafe {
        if in_place {
            c::losskit_cross_entropy_value_and_grad_in_place_f64(
                arena.ptr(&args[0]),
                rows,
                classes,
                arena.ptr(&args[1]),
                arena.ptr(&args[2]),
                ignore_index,
                use_ignore,
                smoothing,
                unmasked,
                z_loss,
                softcap,
                reduction,
                divisor,
                arena.ptr(&vo),
            )
        } else {
            c::losskit_cross_entropy_value_and_grad_f32(
                arena.ptr(&args[0]),
                rows,
                classes,
                arena.ptr(&args[1]),
                arena.ptr(&args[2]),
                ignore_index,
                use_ignore,
                smoothing,
                unmasked,
                z_loss,
                softcap,
                reduction,
                divisor,
                mode,
                arena.ptr(&args[3]),
                arena.ptr(&vo),
            )
        }
    };
    compare("cross_entropy", &args, got, want, &arena.bytes(), &expected);
}

fn softmax(inp: &mut Input<'_>, arena: &mut Arena) {
    let (rows, classes) = match inp.byte() {
        0..=5 => (usize::MAX / 2, 5),
        6..=11 => (0, 1 + inp.below(5)),
        12..=17 => (1 + inp.below(5), 0),
        _ => (1 + inp.below(6), 1 + inp.below(20)),
    };
    let n = rows.checked_mul(classes);
    let nn = n.unwrap_or(usize::MAX);
    let mut args = Vec::new();
    let a = arg(inp, &args, nn, 4, Kind::Input);
    args.push(a);
    let a = arg(inp, &args, nn, 4, Kind::Output);
    args.push(a);
    let before = arena.bytes();
    let mut expected = before.clone();
    let want = match (n, pointer_status(&args)) {
        (None, _) => Status::InvalidParameter,
        (_, Some(s)) => s,
        _ if rows == 0 || classes == 0 => Status::Empty,
        _ => {
            let x = read::<f32>(&before, &args[0]);
            let mut o = read::<f32>(&before, &args[1]);
            let res = losskit::loss::softmax::softmax(&x, classes, &mut o);
            write(&mut expected, &args[1], &o);
            status_of(&res)
        }
    };
    // SAFETY: as in `mse`.
    let got =
        unsafe { c::losskit_softmax_f32(arena.ptr(&args[0]), rows, classes, arena.ptr(&args[1])) };
    compare("softmax_f32", &args, got, want, &arena.bytes(), &expected);
}

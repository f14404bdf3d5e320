//! The pointwise shape: `ℓ(pred[i], target[i] [, aux[i]]) [· weight[i]]`.
//!
//! A pointwise loss gives one lane formula, [`Pointwise::eval`] (value and derivatives at
//! once: the verbs that need only one of them let LLVM drop the rest), and
//! [`Pointwise::hess`]. This module walks the slices: blocks of the summation tree
//! (`accumulate.rs`), vectors inside a block unrolled four ways, and a padded partial vector
//! for the tail. It never knows which instruction set runs; `dispatch.rs` instantiates it per
//! backend.
//!
//! ```text
//! for each block (tree order):             ≤ 2048 elements, stays in L1
//!     for each vector (4 accumulators):    load pred, target [, aux] [, weight]
//!         terms = loss.eval(p, t, a)       the loss's formula, inlined
//!         probe += (p − t)·0 [+ a·0 + w·0 + domain]   NaN where an input is invalid
//!         sum  += w · value                (value verbs, in f64 lanes)
//!         out   = w · scale · grad         (gradient verbs; written or added)
//!     tail: load_partial(fill = 1), same formula, keep_first(rem) before summing
//! ```
//!
//! Invalid inputs (NaN, infinities, values outside the loss's domain) are found by the
//! probe: `(p − t)·0` (sharing the residual's subtraction) plus one multiply-add per extra
//! input, so the normal path pays almost nothing; only a call whose probe turned NaN scans for
//! the index to report (and an overflowing `p − t` that the scan finds valid is ignored).

use crate::error::{Error, Result};
use crate::reduction::{Out, Reduction};
use crate::shape::accumulate::{BLOCK, BlockSum, LaneSum, TreeSum};
use crate::simd::{Backend, Float, Simd, Vector};

/// Per-lane results of a pointwise loss.
#[derive(Clone, Copy, Debug)]
pub struct Terms<V> {
    /// `ℓ(p, t, a)`.
    pub value: V,
    /// `∂ℓ/∂p`.
    pub grad: V,
    /// `∂ℓ/∂a`. Read only when the loss has an auxiliary input ([`Pointwise::AUX`]); a
    /// two-input loss may fill it with any lane value it already has (the driver never reads
    /// it, so the compiler drops it).
    pub grad_aux: V,
}

/// A loss whose value at `i` depends only on the inputs at `i`. Implemented by the loss
/// files in `loss/`; formulas only, no unsafe, no cfg.
pub trait Pointwise: Copy + Send + Sync {
    /// Whether the loss reads a third per-element input (`aux`, e.g. a variance).
    const AUX: bool = false;
    /// The name of the auxiliary input (when [`Pointwise::AUX`]), as errors report it.
    const AUX_NAME: &'static str = "aux";

    /// Checks the hyper-parameters.
    fn check(&self) -> Result<()>;

    /// Value and first derivatives at each lane.
    fn eval<V: Vector>(&self, p: V, t: V, a: V) -> Terms<V>;

    /// `∂²ℓ/∂p²` at each lane.
    fn hess<V: Vector>(&self, p: V, t: V, a: V) -> V;

    /// Whether [`Pointwise::domain`] restricts the inputs beyond finiteness.
    const HAS_DOMAIN: bool = false;

    /// 0 where the (finite) inputs are in the loss's domain, NaN where one is outside it
    /// (a negative variance, a negative count). Only called when [`Pointwise::HAS_DOMAIN`].
    #[inline(always)]
    fn domain<V: Vector>(&self, p: V, _t: V, _a: V) -> V {
        p.splat(<V::Elem as Float>::ZERO)
    }

    /// Which input breaks the domain at an element whose `domain` is NaN although every
    /// input is finite (reported by [`Error::InvalidInput`]).
    #[inline]
    fn domain_input<V: Vector>(&self, _p: V, _t: V, _a: V) -> &'static str {
        "target"
    }

    /// Runs one pass of this loss's kernel on `backend` (the verbs pass
    /// [`Backend::active`]). [`On`] passes its inner loss on with its pinned backend instead,
    /// so pinned and unpinned calls of a loss share one set of kernels.
    #[doc(hidden)]
    #[inline]
    #[allow(private_interfaces)]
    fn pass<F: Float, const VERB: u8>(
        &self,
        backend: Backend,
        inp: Inputs<'_, F>,
        out: Outputs<'_, F>,
        scale: F,
    ) -> Result<Outcome<F>> {
        crate::shape::dispatch::pointwise::<F, Self, VERB>(backend, *self, inp, out, scale)
    }
}

/// A pass of loss `L` in precision `F`, as a function pointer (the type of a compiled
/// kernel, see `compiled_once!`).
#[cfg(all(target_arch = "x86_64", debug_assertions, not(test)))]
pub(crate) type KernelFn<F, L> =
    for<'i, 'o> fn(&L, Backend, Inputs<'i, F>, Outputs<'o, F>, F) -> Result<Outcome<F>>;

/// The two precisions' `KernelFn`s of a loss, for `Sealed::pick`.
#[cfg(all(target_arch = "x86_64", debug_assertions, not(test)))]
pub(crate) struct KernelOf<L>(core::marker::PhantomData<L>);

#[cfg(all(target_arch = "x86_64", debug_assertions, not(test)))]
impl<L> crate::simd::private::ByPrecision for KernelOf<L> {
    type Of<F: Float> = KernelFn<F, L>;
}

/// Implements [`Pointwise::pass`] for a loss of the crate (written once in its
/// `impl Pointwise` block: `crate::shape::pointwise::compiled_once!(Huber);`).
///
/// On x86_64 the loss gets kernels of its own (`dispatch::pointwise_kernel!`), so that its
/// kernels are a compilation unit of their own wherever they are instantiated. In builds
/// with debug assertions (the dev and test profiles, where the test binaries, the C API's
/// tests and the examples call every loss) they are moreover compiled once, here in
/// losskit: one non-generic function per precision and verb, which callers link instead of
/// instantiating the kernels again; only the thin verbs above `pass` (validation, the
/// reduction) are generic in the caller. Optimised builds instantiate what they call, where
/// they call it: a crate calling three losses compiles three losses' kernels, not every
/// loss's. So does losskit's own unit-test binary (`cfg(test)`): its tests call few losses,
/// and compiling every kernel eagerly there was a second copy of that work beside the
/// library the other test binaries link (its clean build: 886 s of CPU → 738 s).
///
/// Where the portable backend is the only one (no x86), the kernels inline into the caller
/// instead, as everything on that path does, so that a call's options fold (what keeps
/// microcontroller code small): there this is the trait's default `pass`.
macro_rules! compiled_once {
    ($loss:ty) => {
        // `#[inline]` as the trait's default `pass`: forcing it would copy every kernel into
        // every caller where the kernels inline (the Cortex-M firmware: +527 KB).
        #[doc(hidden)]
        #[inline]
        #[allow(private_interfaces)]
        fn pass<F: $crate::simd::Float, const VERB: u8>(
            &self,
            backend: $crate::simd::Backend,
            inp: $crate::shape::pointwise::Inputs<'_, F>,
            out: $crate::shape::pointwise::Outputs<'_, F>,
            scale: F,
        ) -> $crate::error::Result<$crate::shape::pointwise::Outcome<F>> {
            use $crate::shape::pointwise::{probe_finite, shares_probe, verb};
            // An inline constant, so that the kernel call below is not instantiated for a
            // probe it never runs (a condition computed at run time would be, even when it
            // folds).
            if const { VERB == verb::PROBE && shares_probe::<$loss>() } {
                return probe_finite::<F>(backend, inp);
            }
            #[cfg(all(target_arch = "x86_64", debug_assertions, not(test)))]
            {
                use $crate::shape::pointwise::{KernelFn, KernelOf};
                $crate::shape::dispatch::pointwise_kernel!($loss);
                $crate::shape::pointwise::compiled_once!(@once value32, f32, verb::VALUE, $loss);
                $crate::shape::pointwise::compiled_once!(@once value64, f64, verb::VALUE, $loss);
                $crate::shape::pointwise::compiled_once!(@once each32, f32, verb::ELEMENTWISE, $loss);
                $crate::shape::pointwise::compiled_once!(@once each64, f64, verb::ELEMENTWISE, $loss);
                $crate::shape::pointwise::compiled_once!(@once grad32, f32, verb::GRAD, $loss);
                $crate::shape::pointwise::compiled_once!(@once grad64, f64, verb::GRAD, $loss);
                $crate::shape::pointwise::compiled_once!(@once both32, f32, verb::VALUE_AND_GRAD, $loss);
                $crate::shape::pointwise::compiled_once!(@once both64, f64, verb::VALUE_AND_GRAD, $loss);
                $crate::shape::pointwise::compiled_once!(@once hess32, f32, verb::HESSIAN, $loss);
                $crate::shape::pointwise::compiled_once!(@once hess64, f64, verb::HESSIAN, $loss);
                $crate::shape::pointwise::compiled_once!(@once probe32, f32, verb::PROBE, $loss);
                $crate::shape::pointwise::compiled_once!(@once probe64, f64, verb::PROBE, $loss);
                // VERB is a constant: the match folds to one function pointer, called directly.
                let kernel: KernelFn<F, $loss> = match VERB {
                    verb::VALUE => F::pick::<KernelOf<$loss>>(value32, value64),
                    verb::ELEMENTWISE => F::pick::<KernelOf<$loss>>(each32, each64),
                    verb::GRAD => F::pick::<KernelOf<$loss>>(grad32, grad64),
                    verb::VALUE_AND_GRAD => F::pick::<KernelOf<$loss>>(both32, both64),
                    verb::HESSIAN => F::pick::<KernelOf<$loss>>(hess32, hess64),
                    _ => F::pick::<KernelOf<$loss>>(probe32, probe64),
                };
                kernel(self, backend, inp, out, scale)
            }
            #[cfg(all(target_arch = "x86_64", any(not(debug_assertions), test)))]
            {
                $crate::shape::dispatch::pointwise_kernel!($loss);
                kernel::<F, VERB>(self, backend, inp, out, scale)
            }
            #[cfg(not(target_arch = "x86_64"))]
            {
                $crate::shape::dispatch::pointwise::<F, $loss, VERB>(backend, *self, inp, out, scale)
            }
        }
    };
    (@once $name:ident, $f:ty, $verb:expr, $loss:ty) => {
        // Not generic, so compiled in losskit (and never inlined into a caller, which would
        // make it instantiate the kernel again).
        #[inline(never)]
        fn $name(
            loss: &$loss,
            backend: $crate::simd::Backend,
            inp: $crate::shape::pointwise::Inputs<'_, $f>,
            out: $crate::shape::pointwise::Outputs<'_, $f>,
            scale: $f,
        ) -> $crate::error::Result<$crate::shape::pointwise::Outcome<$f>> {
            // The loss's own probe only where it has one (an inline constant: the other
            // losses' probe kernels are never instantiated).
            if const { $verb == verb::PROBE && shares_probe::<$loss>() } {
                probe_finite::<$f>(backend, inp)
            } else {
                kernel::<$f, { $verb }>(loss, backend, inp, out, scale)
            }
        }
    };
}
pub(crate) use compiled_once;

/// The probe of the two-input losses whose domain is every finite input (no
/// [`Pointwise::AUX`], no [`Pointwise::HAS_DOMAIN`]): it reads the predictions, targets and
/// weights only, `(p − t)·0 + w·0`, so one kernel per precision serves all of them, where
/// each had its own (three backends, weighted or not), instantiated in every crate that
/// adds into a gradient.
#[derive(Clone, Copy)]
struct FiniteInputs;

impl Pointwise for FiniteInputs {
    fn check(&self) -> Result<()> {
        Ok(())
    }
    // Never evaluated: the probe reads only the inputs.
    #[inline(always)]
    fn eval<V: Vector>(&self, p: V, _t: V, _a: V) -> Terms<V> {
        let zero = p.splat(<V::Elem as Float>::ZERO);
        Terms {
            value: zero,
            grad: zero,
            grad_aux: zero,
        }
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, p: V, _t: V, _a: V) -> V {
        p.splat(<V::Elem as Float>::ZERO)
    }
}

/// Whether `L` has no probe of its own but [`probe_finite`]'s: a two-input loss whose
/// domain is every finite input.
pub(crate) const fn shares_probe<L: Pointwise>() -> bool {
    !L::AUX && !L::HAS_DOMAIN
}

crate::shape::dispatch::compiled_per_precision! {
/// The probe pass of every two-input loss without a domain on `backend` ([`FiniteInputs`]).
#[doc(hidden)]
pub(crate) fn probe_finite<F>(backend: Backend, inp: Inputs<'_, F>) -> Result<Outcome<F>> {
    FiniteInputs.pass::<F, { verb::PROBE }>(backend, inp, Outputs::none(), F::ZERO)
}
}

/// What a pass computes.
pub(crate) mod verb {
    pub const VALUE: u8 = 0;
    pub const ELEMENTWISE: u8 = 1;
    pub const GRAD: u8 = 2;
    pub const VALUE_AND_GRAD: u8 = 3;
    pub const HESSIAN: u8 = 4;
    /// Only the probe: validation before an accumulating write.
    pub const PROBE: u8 = 5;
}

/// The inputs of one pass (equal lengths, checked at the boundary).
#[derive(Clone, Copy)]
pub(crate) struct Inputs<'a, F> {
    pub p: &'a [F],
    pub t: &'a [F],
    pub a: &'a [F],
    pub w: Option<&'a [F]>,
}

/// The outputs of one pass: `main` (per-element values, gradient or Hessian) and `aux`
/// (gradient of the auxiliary input); empty slices when not written.
pub(crate) struct Outputs<'a, F> {
    pub main: &'a mut [F],
    pub aux: &'a mut [F],
    /// Add into `main` instead of writing it.
    pub add: bool,
    /// Add into `aux` instead of writing it.
    pub add_aux: bool,
    /// The factor of every summed term where sums are compensated in `F` (1, or 2⁻⁶⁴ when a
    /// sum that overflowed is summed again: [`execute`]); unused by f64 sums.
    pub term_scale: F,
}

/// What a pass returns: the unscaled sum of `w · ℓ` (in f64, or compensated in the data's
/// precision: `accumulate.rs`) and whether the probe found an invalid input.
#[derive(Clone, Copy)]
pub(crate) struct Outcome<F: Float> {
    pub sum: F::Sum,
    pub invalid: bool,
}

/// Whether block sums of `F` are compensated sums in `F` rather than f64.
#[inline(always)]
fn compensated<F: Float>() -> bool {
    <F::Sum as BlockSum<F>>::COMPENSATED
}

/// The factor by which terms are scaled when a compensated sum overflowed and is re-summed
/// (`2⁻⁶⁴`; its inverse `2⁶⁴`): 2⁶⁴ terms of at most `f32::MAX · 2⁻⁶⁴` cannot overflow.
const RESUM_SCALE: f64 = 5.421_010_862_427_522e-20;
const RESUM_UNSCALE: f64 = 18_446_744_073_709_551_616.0;

impl<'a, F> Inputs<'a, F> {
    #[inline]
    fn len(&self) -> usize {
        self.p.len()
    }
    /// The same streams, each used one re-sliced to exactly `n` elements.
    #[inline(always)]
    fn exact(self, n: usize) -> Self {
        Inputs {
            p: &self.p[..n],
            t: &self.t[..n],
            a: if self.a.is_empty() {
                self.a
            } else {
                &self.a[..n]
            },
            w: self.w.map(|w| &w[..n]),
        }
    }
    #[inline]
    fn split_at(self, mid: usize) -> (Self, Self) {
        let (p0, p1) = self.p.split_at(mid);
        let (t0, t1) = self.t.split_at(mid);
        let (a0, a1) = split_opt(self.a, mid);
        let (w0, w1) = match self.w {
            Some(w) => {
                let (x, y) = w.split_at(mid);
                (Some(x), Some(y))
            }
            None => (None, None),
        };
        (
            Inputs {
                p: p0,
                t: t0,
                a: a0,
                w: w0,
            },
            Inputs {
                p: p1,
                t: t1,
                a: a1,
                w: w1,
            },
        )
    }
}

/// Splits a slice that is either empty (an unused stream) or as long as the pass.
#[inline]
fn split_opt<F>(s: &[F], mid: usize) -> (&[F], &[F]) {
    if s.is_empty() {
        (s, s)
    } else {
        s.split_at(mid)
    }
}

#[inline]
fn split_opt_mut<F>(s: &mut [F], mid: usize) -> (&mut [F], &mut [F]) {
    if s.is_empty() {
        (&mut [], s)
    } else {
        s.split_at_mut(mid)
    }
}

impl<'a, F: Float> Outputs<'a, F> {
    /// No outputs (value verbs).
    pub(crate) fn none() -> Self {
        Outputs {
            main: &mut [],
            aux: &mut [],
            add: false,
            add_aux: false,
            term_scale: F::ONE,
        }
    }
    /// One output, `main`.
    pub(crate) fn main(out: Out<'a, F>) -> Self {
        Outputs {
            main: out.buf,
            aux: &mut [],
            add: out.add,
            add_aux: false,
            term_scale: F::ONE,
        }
    }

    #[inline]
    fn split_at(self, mid: usize) -> (Outputs<'a, F>, Outputs<'a, F>) {
        let (m0, m1) = split_opt_mut(self.main, mid);
        let (x0, x1) = split_opt_mut(self.aux, mid);
        (
            Outputs {
                main: m0,
                aux: x0,
                ..self
            },
            Outputs {
                main: m1,
                aux: x1,
                ..self
            },
        )
    }
}

/// Runs one pass of `loss` over `inp` on backend `simd`.
///
/// Blocks are visited in order and their sums combined by [`TreeSum`], which adds them in
/// exactly the tree of `accumulate.rs`. It is iterative so that everything stays inside the
/// one `#[target_feature]` function that called it.
#[inline(always)]
pub(crate) fn run<S: Simd, F: Float, L: Pointwise, const VERB: u8, const WEIGHTED: bool>(
    simd: S,
    loss: L,
    inp: Inputs<'_, F>,
    out: Outputs<'_, F>,
    scale: F,
) -> Outcome<F> {
    let mut tree = TreeSum::<F::Sum>::new();
    let mut invalid = false;
    let (mut rest_in, mut rest_out) = (inp, out);
    loop {
        let take = rest_in.len().min(BLOCK);
        let (bi, ri) = rest_in.split_at(take);
        let (bo, ro) = rest_out.split_at(take);
        let o = block::<S, F, L, VERB, WEIGHTED>(simd, loss, bi, bo, scale);
        invalid |= o.invalid;
        tree.push(o.sum);
        if ri.len() == 0 {
            break;
        }
        (rest_in, rest_out) = (ri, ro);
    }
    Outcome {
        sum: tree.total(),
        invalid,
    }
}

/// The vector at `s[i..]`: full, or padded with 1 (a value every loss accepts, so padded
/// lanes never trip the probe).
#[inline(always)]
fn load<V: Vector, const FULL: bool>(v: V, s: &[V::Elem], i: usize) -> V {
    if FULL {
        // An exact sub-slice: the bounds check folds into the loop condition, and the
        // backend's length test is known true.
        v.load(&s[i..i + V::LANES])
    } else {
        v.load_partial(&s[i..], <V::Elem as Float>::ONE)
    }
}

/// Writes (or adds) `x` at `dst[i..]`; a short `dst` takes only its valid lanes.
#[inline(always)]
fn emit<V: Vector, const FULL: bool>(v: V, x: V, dst: &mut [V::Elem], i: usize, add: bool) {
    let dst = if FULL {
        &mut dst[i..i + V::LANES]
    } else {
        &mut dst[i..]
    };
    let x = if add { v.load(dst).add(x) } else { x };
    x.store(dst);
}

/// One vector of work at element offset `i` with `n` valid lanes (`n == LANES` in the body).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn step<V: Vector, L: Pointwise, const VERB: u8, const WEIGHTED: bool, const FULL: bool>(
    v: V,
    loss: &L,
    inp: &Inputs<'_, V::Elem>,
    out: &mut Outputs<'_, V::Elem>,
    i: usize,
    n: usize,
    scale: V,
    probe: &mut V,
) -> V {
    let one = <V::Elem as Float>::ONE;
    let p = load::<V, FULL>(v, inp.p, i);
    let t = load::<V, FULL>(v, inp.t, i);
    let a = if L::AUX {
        load::<V, FULL>(v, inp.a, i)
    } else {
        v.splat(one)
    };
    let w = match inp.w {
        Some(w) if WEIGHTED => load::<V, FULL>(v, w, i),
        _ => v.splat(one),
    };
    // The probe: (p − t)·0 is NaN when p or t is NaN or infinite (and, harmlessly, when
    // p − t overflows: the scan then finds nothing and the result stands). Losses on r = p − t
    // share the subtraction with their formula.
    let zero = v.splat(<V::Elem as Float>::ZERO);
    let mut bad = p.sub(t).mul(zero);
    if L::AUX {
        bad = a.mul_add(zero, bad);
    }
    if WEIGHTED {
        bad = w.mul_add(zero, bad);
    }
    if L::HAS_DOMAIN {
        bad = bad.add(loss.domain(p, t, a));
    }
    *probe = probe.add(bad);
    if VERB == verb::PROBE {
        return zero;
    }
    if VERB == verb::HESSIAN {
        let h = loss.hess(p, t, a);
        let h = if WEIGHTED {
            weighted_scaled(h, w, scale)
        } else {
            h.mul(scale)
        };
        emit::<V, FULL>(v, h, out.main, i, out.add);
        return zero;
    }
    let terms = loss.eval(p, t, a);
    let mut summand = zero;
    if VERB == verb::VALUE || VERB == verb::VALUE_AND_GRAD {
        let mut x = if WEIGHTED {
            weighted(terms.value, w, zero)
        } else {
            terms.value
        };
        // Compensated sums scale each term before any addition (1, or 2⁻⁶⁴ when summing
        // again a sum that overflowed; `execute`): here for wide vectors, which `block`
        // pairs at once; one-lane vectors in `block`'s group sum (a multiply-add).
        if compensated::<V::Elem>() && V::UNROLL {
            x = x.mul(v.splat(out.term_scale));
        }
        summand = if FULL { x } else { x.keep_first(n) };
    }
    if VERB == verb::ELEMENTWISE {
        let x = if WEIGHTED {
            weighted(terms.value, w, zero)
        } else {
            terms.value
        };
        emit::<V, FULL>(v, x, out.main, i, false);
    }
    if VERB == verb::GRAD || VERB == verb::VALUE_AND_GRAD {
        let g = if WEIGHTED {
            weighted_scaled(terms.grad, w, scale)
        } else {
            terms.grad.mul(scale)
        };
        emit::<V, FULL>(v, g, out.main, i, out.add);
        if L::AUX && !out.aux.is_empty() {
            let ga = if WEIGHTED {
                weighted_scaled(terms.grad_aux, w, scale)
            } else {
                terms.grad_aux.mul(scale)
            };
            emit::<V, FULL>(v, ga, out.aux, i, out.add_aux);
        }
    }
    summand
}

/// `x·w`, and exactly 0 where `w = 0`: a term that overflowed to `±∞` (its true value is
/// finite, only beyond `F`'s range) times a zero weight contributes nothing, not NaN.
#[inline(always)]
fn weighted<V: Vector>(x: V, w: V, zero: V) -> V {
    V::select(w.eq(zero), zero, x.mul(w))
}

/// `x·w·s` (a derivative, its weight and the reduction's factor) without a spurious
/// overflow: `x·(w·s)`, unless that is not finite, then `(x·w)·s`. With `s ≤ 1` only the
/// first product can overflow where the result fits; with `s > 1` only `w·s` can (a weight
/// near the range's end over a divisor below 1), and then `0 · ∞` would be NaN. A zero
/// weight gives exactly 0, also times a derivative that overflowed to `±∞`.
#[inline(always)]
fn weighted_scaled<V: Vector>(x: V, w: V, s: V) -> V {
    let zero = w.splat(<V::Elem as Float>::ZERO);
    let a = x.mul(w.mul(s));
    let b = x.mul(w).mul(s);
    V::select(w.eq(zero), zero, V::select(a.sub(a).is_nan(), b, a))
}

/// One block (≤ [`BLOCK`] elements): four accumulators over full vectors, then the tail.
#[inline(always)]
fn block<S: Simd, F: Float, L: Pointwise, const VERB: u8, const WEIGHTED: bool>(
    simd: S,
    loss: L,
    inp: Inputs<'_, F>,
    mut out: Outputs<'_, F>,
    scale: F,
) -> Outcome<F> {
    let v = F::lanes(simd);
    let lanes = <F::Lanes<S> as Vector>::LANES;
    let n = inp.len();
    // Re-slice every stream the verb touches to exactly `n`, so that the loop condition
    // proves each access in bounds.
    let inp = inp.exact(n);
    let writes = VERB != verb::VALUE && VERB != verb::PROBE;
    if writes {
        out.main = &mut core::mem::take(&mut out.main)[..n];
    }
    let scale = v.splat(scale);
    // Four vectors of terms are paired in the input precision, ((x0 + x1) + (x2 + x3)),
    // then widened and added to one of two f64 accumulators: a quarter of the conversion
    // work of widening every vector, for about one more rounding of four terms (or added
    // to compensated sums in the input precision, `accumulate.rs`).
    let (mut a0, mut a1) = (LaneSum::new(v), LaneSum::new(v));
    let (mut q0, mut q1) = (v, v);
    let mut i = 0;
    let mut odd = false;
    // Four vectors per step where the registers are wide (`Vector::UNROLL`); one-lane
    // vectors take the loop below alone.
    while <F::Lanes<S> as Vector>::UNROLL && i + 4 * lanes <= n {
        let x0 =
            step::<_, L, VERB, WEIGHTED, true>(v, &loss, &inp, &mut out, i, lanes, scale, &mut q0);
        let x1 = step::<_, L, VERB, WEIGHTED, true>(
            v,
            &loss,
            &inp,
            &mut out,
            i + lanes,
            lanes,
            scale,
            &mut q1,
        );
        let x2 = step::<_, L, VERB, WEIGHTED, true>(
            v,
            &loss,
            &inp,
            &mut out,
            i + 2 * lanes,
            lanes,
            scale,
            &mut q0,
        );
        let x3 = step::<_, L, VERB, WEIGHTED, true>(
            v,
            &loss,
            &inp,
            &mut out,
            i + 3 * lanes,
            lanes,
            scale,
            &mut q1,
        );
        if VERB == verb::VALUE || VERB == verb::VALUE_AND_GRAD {
            let x = x0.add(x1).add(x2.add(x3));
            if odd {
                a1.add(x);
            } else {
                a0.add(x);
            }
            odd = !odd;
        }
        i += 4 * lanes;
    }
    // One-lane vectors (which start here, at 0) add four terms in the input precision, as
    // the unrolled loop pairs four vectors, and the group to the accumulator when `i` ends
    // one (the last group, possibly empty, after the loop).
    let unroll = <F::Lanes<S> as Vector>::UNROLL;
    let (term_scale, mut group) = (v.splat(out.term_scale), v.splat(F::ZERO));
    while i + lanes <= n {
        let x =
            step::<_, L, VERB, WEIGHTED, true>(v, &loss, &inp, &mut out, i, lanes, scale, &mut q0);
        if unroll {
            a0.add(x);
        } else {
            group = if compensated::<F>() {
                x.mul_add(term_scale, group)
            } else {
                group.add(x)
            };
            if i % 4 == 3 {
                a0.add(group);
                group = v.splat(F::ZERO);
            }
        }
        i += lanes;
    }
    if !unroll {
        a0.add(group);
    }
    if i < n {
        let x =
            step::<_, L, VERB, WEIGHTED, false>(v, &loss, &inp, &mut out, i, n - i, scale, &mut q1);
        a1.add(x);
    }
    let p = q0.add(q1);
    Outcome {
        sum: a0.total(a1, v),
        invalid: <F::Lanes<S> as Vector>::mask_any(p.is_nan()),
    }
}

// ---------------------------------------------------------------------------------------
// The public boundary: validation, dispatch, error location.
// ---------------------------------------------------------------------------------------

crate::simd::fold_inline! {
/// Checks lengths and parameters before anything is written.
pub(crate) fn validate<F: Float, L: Pointwise>(
    loss: &L,
    pred: &[F],
    target: &[F],
    aux: &[F],
    weight: Option<&[F]>,
    outs: &[(&'static str, usize)],
) -> Result<()> {
    loss.check()?;
    let n = pred.len();
    let same = |name: &'static str, len: usize| {
        if len == n {
            Ok(())
        } else {
            Err(Error::LengthMismatch {
                name,
                expected: n,
                found: len,
            })
        }
    };
    same("target", target.len())?;
    if L::AUX {
        same(L::AUX_NAME, aux.len())?;
    }
    if let Some(w) = weight {
        same("weight", w.len())?;
    }
    for &(name, len) in outs {
        same(name, len)?;
    }
    if n == 0 {
        return Err(Error::Empty);
    }
    Ok(())
}
}

/// Finds the first invalid element after a pass reported one (the slow path only).
#[cold]
fn locate<F: Float, L: Pointwise>(loss: &L, inp: Inputs<'_, F>) -> Option<Error> {
    let v = F::lanes(crate::simd::Portable);
    let one = F::ONE;
    for i in 0..inp.len() {
        let get = |s: &[F]| s.get(i).copied().unwrap_or(one);
        let (p, t, a) = (get(inp.p), get(inp.t), get(inp.a));
        let w = inp.w.map_or(one, get);
        for (name, x) in [("pred", p), ("target", t), (L::AUX_NAME, a), ("weight", w)] {
            if !x.is_finite() {
                return Some(Error::NonFinite { name, index: i });
            }
        }
        let (p, t, a) = (v.splat(p), v.splat(t), v.splat(a));
        if L::HAS_DOMAIN
            && <F::Lanes<crate::simd::Portable> as Vector>::mask_any(loss.domain(p, t, a).is_nan())
        {
            return Some(Error::InvalidInput {
                name: loss.domain_input(p, t, a),
                index: i,
            });
        }
    }
    // Every input is finite and in the domain: the probe fired because p − t overflowed.
    None
}

crate::simd::fold_inline! {
/// Runs a validated pass and turns a probe hit into the located error, restoring the
/// outputs' contract (write mode: zeros; add mode: untouched, ensured by a probe pass first).
/// Every pass runs on `backend` (the verbs give [`Backend::active`]; a pinned [`On`] loss's
/// `pass` uses its own instead).
#[allow(clippy::too_many_arguments)]
pub(crate) fn execute<F: Float, L: Pointwise, const VERB: u8>(
    backend: Backend,
    loss: &L,
    inp: Inputs<'_, F>,
    out: Outputs<'_, F>,
    reduction: Reduction,
) -> Result<F> {
    // f64 sums: the scale in f64. Compensated sums (targets without f64 arithmetic): the
    // scale in `F`, so that nothing here is software f64 (`Reduction::scale_in`).
    let (scale, scale_f) = if compensated::<F>() {
        (0.0, reduction.scale_in::<F>(inp.len())?)
    } else {
        let s = reduction.scale(inp.len())?;
        (s, F::from_f64(s))
    };
    if out.add || out.add_aux {
        let probe = loss.pass::<F, { verb::PROBE }>(backend, inp, Outputs::none(), F::ZERO)?;
        if probe.invalid
            && let Some(e) = locate(loss, inp)
        {
            // An output added to stays untouched; one written beside it (the gradient of
            // `aux` written while `grad` is added, or the reverse) is reset, as always.
            if !out.add {
                out.main.fill(F::ZERO);
            }
            if !out.add_aux {
                out.aux.fill(F::ZERO);
            }
            return Err(e);
        }
    }
    // One call site of the kernel (inlined where the portable backend is the only one): a
    // compensated sum that overflowed runs it once more with scaled terms (below).
    let mut term_scale = F::ONE;
    loop {
        let o = loss.pass::<F, VERB>(
            backend,
            inp,
            Outputs {
                main: &mut *out.main,
                aux: &mut *out.aux,
                term_scale,
                ..out
            },
            scale_f,
        )?;
        if o.invalid
            && let Some(e) = locate(loss, inp)
        {
            if !out.add {
                out.main.fill(F::ZERO);
            }
            if !out.add_aux {
                out.aux.fill(F::ZERO);
            }
            return Err(e);
        }
        if !compensated::<F>() {
            // Groups of four f32 terms are added in f32 before widening (`block`): terms
            // near `f32::MAX` can overflow a group where the f64 sum fits (rare: `resum`).
            let (sum, _) = resum(backend, loss, inp, o.sum)?;
            return Ok(F::from_f64(sum.to_f64() * scale));
        }
        if o.sum.is_finite() || term_scale != F::ONE {
            return Ok(o.sum.scaled(scale_f) * (F::ONE / term_scale));
        }
        // The sum overflowed (or a term is infinite): sum again with every term scaled by
        // 2⁻⁶⁴ before any addition, so that a sum beyond the range of `F` whose mean is
        // representable still gives the mean (numerics policy 2). Written outputs are
        // written again with the same values; added ones cannot be, so a value pass sums.
        if out.add || out.add_aux {
            let (sum, unscale) = resum(backend, loss, inp, o.sum)?;
            return Ok(sum.scaled(scale_f) * unscale);
        }
        term_scale = F::from_f64(RESUM_SCALE);
    }
}
}

/// Sums again a sum that is not finite (a rare path; a finite sum is returned as it is),
/// so that a sum beyond the range of `F` whose mean is representable still gives the mean
/// (numerics policy 2). Returns the sum and the factor (1 or 2⁶⁴) to multiply the result by.
///
/// * Compensated sums: a value pass with every term scaled by 2⁻⁶⁴ ([`resum_cold`]).
/// * f64 sums of f32 data: the f64 sum itself cannot overflow, but `block` adds four vectors
///   of terms in f32 before widening them (and one-lane vectors four terms), so a group of
///   terms near `f32::MAX` can: summed again in chunks too short for any group to form, every
///   term widened on its own ([`resum_widened`]).
///
/// A sum that is infinite because a term is stays so (and NaN when infinite terms have both
/// signs). f64 sums of f64 data are returned as they are (a widened sum of f64 terms
/// overflows as theirs does).
#[inline(always)]
fn resum<F: Float, L: Pointwise>(
    backend: Backend,
    loss: &L,
    inp: Inputs<'_, F>,
    sum: F::Sum,
) -> Result<(F::Sum, F)> {
    if sum.is_finite() {
        Ok((sum, F::ONE))
    } else if compensated::<F>() {
        resum_cold(backend, loss, inp)
    } else if F::MANTISSA_DIGITS == 24 {
        Ok((
            BlockSum::from_f64(resum_widened(backend, loss, inp)?),
            F::ONE,
        ))
    } else {
        Ok((sum, F::ONE))
    }
}

/// The f64 sum of the terms of `inp`, every term widened before any addition: value passes
/// over chunks shorter than four vectors of the narrowest wide backend (the portable one's:
/// no backend has fewer lanes), where `block` widens each vector on its own, or of one
/// element where vectors have one lane (which `block` groups by four). The chunks' sums
/// are added in order. Only after a sum that is not finite.
#[cold]
#[inline(never)]
fn resum_widened<F: Float, L: Pointwise>(
    backend: Backend,
    loss: &L,
    mut inp: Inputs<'_, F>,
) -> Result<f64> {
    let chunk = if <F::Lanes<crate::simd::Portable> as Vector>::UNROLL {
        4 * <F::Lanes<crate::simd::Portable> as Vector>::LANES - 1
    } else {
        1
    };
    let mut total = 0.0;
    while inp.len() > 0 {
        let (head, rest) = inp.split_at(chunk.min(inp.len()));
        let o = loss.pass::<F, { verb::VALUE }>(backend, head, Outputs::none(), F::ZERO)?;
        total += o.sum.to_f64();
        inp = rest;
    }
    Ok(total)
}

/// A compensated sum's second pass: the value with every term scaled by 2⁻⁶⁴.
#[cold]
#[inline(never)]
fn resum_cold<F: Float, L: Pointwise>(
    backend: Backend,
    loss: &L,
    inp: Inputs<'_, F>,
) -> Result<(F::Sum, F)> {
    let o = loss.pass::<F, { verb::VALUE }>(
        backend,
        inp,
        Outputs {
            term_scale: F::from_f64(RESUM_SCALE),
            ..Outputs::none()
        },
        F::ZERO,
    )?;
    Ok((o.sum, F::from_f64(RESUM_UNSCALE)))
}

/// Runs one verb of `loss` over a `rows × classes` matrix whose `aux` and `weight` hold one
/// entry per class, broadcast over the rows (PyTorch's `[C]` tensors against `[N, C]`):
/// each row is one pass of the ordinary driver with the same per-class streams, and the rows'
/// sums are added in row order (in f64). `row_sum(r, s)` receives each row's unscaled sum.
///
/// The caller validated the lengths (`pred`, `target` and a non-empty `out.main` are
/// `rows · classes`; `aux` is empty or `classes`, `weight` is `classes`). The error contract
/// is [`execute`]'s: an accumulating output is probed over every row before any row is
/// written; a written one is reset to zeros when an input turns out invalid. Errors index
/// the flattened matrix.
pub(crate) fn execute_broadcast<F: Float, L: Pointwise, const VERB: u8>(
    backend: Backend,
    loss: &L,
    inp: Inputs<'_, F>,
    classes: usize,
    out: Outputs<'_, F>,
    scale: f64,
    mut row_sum: impl FnMut(usize, f64),
) -> Result<f64> {
    let row = |r: usize| Inputs {
        p: &inp.p[r * classes..(r + 1) * classes],
        t: &inp.t[r * classes..(r + 1) * classes],
        ..inp
    };
    let rows = inp.p.len() / classes;
    let locate_rows = || {
        (0..rows).find_map(|r| {
            locate(loss, row(r)).map(|e| match e {
                Error::NonFinite { name, index } if name == "pred" || name == "target" => {
                    Error::NonFinite {
                        name,
                        index: r * classes + index,
                    }
                }
                Error::InvalidInput { name, index } if name == "pred" || name == "target" => {
                    Error::InvalidInput {
                        name,
                        index: r * classes + index,
                    }
                }
                other => other,
            })
        })
    };
    if out.add {
        let mut invalid = false;
        for r in 0..rows {
            let o = loss.pass::<F, { verb::PROBE }>(backend, row(r), Outputs::none(), F::ZERO)?;
            invalid |= o.invalid;
        }
        if invalid && let Some(e) = locate_rows() {
            return Err(e);
        }
    }
    let (add, main) = (out.add, out.main);
    let mut total = 0.0;
    let mut invalid = false;
    for r in 0..rows {
        let m: &mut [F] = if main.is_empty() {
            &mut []
        } else {
            &mut main[r * classes..(r + 1) * classes]
        };
        let o = loss.pass::<F, VERB>(
            backend,
            row(r),
            Outputs {
                main: m,
                aux: &mut [],
                add,
                add_aux: false,
                term_scale: F::ONE,
            },
            F::from_f64(scale),
        )?;
        invalid |= o.invalid;
        let (sum, unscale) = resum(backend, loss, row(r), o.sum)?;
        let sum = sum.to_f64() * unscale.to_f64();
        total += sum;
        row_sum(r, sum);
    }
    if invalid && let Some(e) = locate_rows() {
        if !add {
            main.fill(F::ZERO);
        }
        return Err(e);
    }
    Ok(total * scale)
}

crate::simd::fold_inline! {
/// Validates and runs one verb of a two-input loss whose only output is `out`.
///
/// Inlined with [`execute`] into each verb of each caller, so that what the call site knows
/// (no weights, write mode) selects the kernels before any is referenced: a call links only
/// its own (on targets without SIMD, where the kernel is inlined too, only its own code).
fn two_inputs<F: Float, L: Pointwise, const VERB: u8>(
    loss: &L,
    pred: &[F],
    target: &[F],
    weight: Option<&[F]>,
    reduction: Reduction,
    (name, out): (&'static str, Out<'_, F>),
) -> Result<F> {
    validate(loss, pred, target, &[], weight, &[(name, out.buf.len())])?;
    let inp = Inputs {
        p: pred,
        t: target,
        a: &[],
        w: weight,
    };
    execute::<F, L, VERB>(Backend::active(), loss, inp, Outputs::main(out), reduction)
}
}

/// The verbs every pointwise loss has. Import it (or the [`prelude`](crate::prelude)) to
/// call them.
///
/// `F` is `f32` or `f64`. `weight` is PyTorch's per-element `weight`: it multiplies each
/// term and does not change the divisor of [`Reduction::Mean`]. Gradients and Hessians are
/// of the reduced value. Every verb validates first (lengths, parameters) and writes
/// nothing on such an error; an input that is NaN, infinite or outside the loss's domain
/// gives [`Error::NonFinite`] or [`Error::InvalidInput`] naming the first such element.
pub trait PointwiseLoss: Pointwise {
    crate::simd::fold_inline! {
    /// The reduced loss `Σ wᵢ ℓᵢ · scale`.
    ///
    /// # Errors
    /// See the trait docs.
    fn value<F: Float>(
        &self,
        pred: &[F],
        target: &[F],
        weight: Option<&[F]>,
        reduction: Reduction,
    ) -> Result<F> {
        validate(self, pred, target, &[], weight, &[])?;
        let inp = Inputs {
            p: pred,
            t: target,
            a: &[],
            w: weight,
        };
        execute::<F, Self, { verb::VALUE }>(
            Backend::active(),
            self,
            inp,
            Outputs::none(),
            reduction,
        )
    }
    }

    crate::simd::fold_inline! {
    /// The per-element losses `wᵢ ℓᵢ` written to `out` (PyTorch's `reduction="none"`).
    ///
    /// # Errors
    /// See the trait docs.
    fn value_elementwise<F: Float>(
        &self,
        pred: &[F],
        target: &[F],
        weight: Option<&[F]>,
        out: &mut [F],
    ) -> Result<()> {
        two_inputs::<F, Self, { verb::ELEMENTWISE }>(
            self,
            pred,
            target,
            weight,
            Reduction::Sum,
            ("out", Out::write(out)),
        )
        .map(|_| ())
    }
    }

    crate::simd::fold_inline! {
    /// The gradient `∂L/∂pred`, written or added into `grad`.
    ///
    /// # Errors
    /// See the trait docs.
    fn grad<'g, F: Float>(
        &self,
        pred: &[F],
        target: &[F],
        weight: Option<&[F]>,
        reduction: Reduction,
        grad: impl Into<Out<'g, F>>,
    ) -> Result<()> {
        let g = grad.into();
        two_inputs::<F, Self, { verb::GRAD }>(self, pred, target, weight, reduction, ("grad", g))
            .map(|_| ())
    }
    }

    crate::simd::fold_inline! {
    /// The reduced loss and its gradient in one pass (JAX's `value_and_grad`).
    ///
    /// # Errors
    /// See the trait docs.
    fn value_and_grad<'g, F: Float>(
        &self,
        pred: &[F],
        target: &[F],
        weight: Option<&[F]>,
        reduction: Reduction,
        grad: impl Into<Out<'g, F>>,
    ) -> Result<F> {
        let g = grad.into();
        two_inputs::<F, Self, { verb::VALUE_AND_GRAD }>(
            self,
            pred,
            target,
            weight,
            reduction,
            ("grad", g),
        )
    }
    }

    crate::simd::fold_inline! {
    /// The diagonal of the Hessian of the reduced loss, `∂²L/∂predᵢ²`, written or added into
    /// `hess` (what gradient-boosting custom objectives need). Where `ℓ` has a kink the
    /// one-sided second derivative 0 is used (MAE, quantile); see each loss.
    ///
    /// # Errors
    /// See the trait docs.
    fn hessian_diag<'h, F: Float>(
        &self,
        pred: &[F],
        target: &[F],
        weight: Option<&[F]>,
        reduction: Reduction,
        hess: impl Into<Out<'h, F>>,
    ) -> Result<()> {
        let h = hess.into();
        two_inputs::<F, Self, { verb::HESSIAN }>(self, pred, target, weight, reduction, ("hess", h))
            .map(|_| ())
    }
    }

    /// This loss pinned to `backend` (for tests, benches and reproducibility across
    /// machines).
    ///
    /// # Errors
    /// [`Error::BackendUnavailable`] when this CPU cannot run it.
    fn on(self, backend: Backend) -> Result<On<Self>> {
        if backend.is_available() {
            Ok(On::new(self, backend))
        } else {
            Err(Error::BackendUnavailable)
        }
    }
}

/// A loss pinned to one backend; made by `on(backend)`. It has the same verbs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct On<L> {
    loss: L,
    backend: Backend,
}

impl<L> On<L> {
    pub(crate) fn new(loss: L, backend: Backend) -> Self {
        On { loss, backend }
    }
    /// The loss.
    pub fn loss(&self) -> &L {
        &self.loss
    }
    /// The backend it runs on.
    pub fn pinned_backend(&self) -> Backend {
        self.backend
    }
}

impl<L: Pointwise> Pointwise for On<L> {
    const AUX: bool = L::AUX;
    const AUX_NAME: &'static str = L::AUX_NAME;
    #[inline]
    fn check(&self) -> Result<()> {
        self.loss.check()
    }
    #[inline(always)]
    fn eval<V: Vector>(&self, p: V, t: V, a: V) -> Terms<V> {
        self.loss.eval(p, t, a)
    }
    #[inline(always)]
    fn hess<V: Vector>(&self, p: V, t: V, a: V) -> V {
        self.loss.hess(p, t, a)
    }
    const HAS_DOMAIN: bool = L::HAS_DOMAIN;
    #[inline(always)]
    fn domain<V: Vector>(&self, p: V, t: V, a: V) -> V {
        self.loss.domain(p, t, a)
    }
    #[inline]
    fn domain_input<V: Vector>(&self, p: V, t: V, a: V) -> &'static str {
        self.loss.domain_input(p, t, a)
    }
    /// Runs the inner loss's pass on the pinned backend, not the default one.
    #[inline]
    #[allow(private_interfaces)]
    fn pass<F: Float, const VERB: u8>(
        &self,
        _default: Backend,
        inp: Inputs<'_, F>,
        out: Outputs<'_, F>,
        scale: F,
    ) -> Result<Outcome<F>> {
        self.loss.pass::<F, VERB>(self.backend, inp, out, scale)
    }
}

/// Every two-input pointwise loss gets the verbs.
impl<L: Pointwise> PointwiseLoss for L {}

//! Every verb of every pointwise loss runs without touching the heap: a counting global
//! allocator sees zero allocations during the calls (and sees the positive control).
//! Every registered row loss is checked the same way in `row_registry.rs` (with this
//! counter); the row test here covers the options the registry's default instances leave
//! out (class weights, ignore index, smoothing, z-loss, soft-capping, row outputs, the
//! row utilities).

use losskit::prelude::*;
use losskit::reference::Domain;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    // Per thread, so the test harness's own threads do not count.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The heap allocations this thread makes while `f` runs.
pub(crate) fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

fn every_verb<L: PointwiseLoss>(loss: L, p: &[f32], t: &[f32], w: &[f32], g: &mut [f32]) {
    for backend in Backend::available() {
        let l = loss.on(backend).unwrap();
        l.value(p, t, Some(w), Reduction::Mean).unwrap();
        l.value_elementwise(p, t, None, g).unwrap();
        l.grad(p, t, None, Reduction::Sum, &mut g[..]).unwrap();
        l.value_and_grad(p, t, Some(w), Reduction::Mean, Out::add(g))
            .unwrap();
        l.hessian_diag(p, t, None, Reduction::Divisor(3.0), &mut g[..])
            .unwrap();
        // The error paths too (validation and located non-finite input).
        let _ = l.value(p, &t[1..], None, Reduction::Sum);
        let mut bad = p.to_vec();
        bad[5] = f32::NAN;
        let e = allocations_during(|| {
            let _ = l.value_and_grad(&bad, t, None, Reduction::Sum, &mut g[..]);
        });
        assert_eq!(e, 0);
    }
}

#[test]
fn no_verb_allocates_and_the_counter_works() {
    // Positive control: the counter sees an allocation.
    assert!(allocations_during(|| drop(std::hint::black_box(vec![1u8; 64]))) >= 1);

    let n = 10_000;
    let p: Vec<f32> = (0..n).map(|i| (i % 97) as f32 * 0.1).collect();
    let t: Vec<f32> = (0..n).map(|i| (i % 89) as f32 * 0.1).collect();
    let w = vec![0.5f32; n];
    let mut g = vec![0.0f32; n];
    // The inputs moved onto each loss's domain, made before counting starts.
    let placed: Vec<(Domain, Vec<f32>, Vec<f32>)> = [
        Domain::Real,
        Domain::Count,
        Domain::Positive,
        Domain::Probability,
        Domain::Logit,
        Domain::Sign,
        Domain::LogProbability,
    ]
    .into_iter()
    .map(|d| {
        let (pv, tv) = p
            .iter()
            .zip(&t)
            .map(|(&a, &b)| {
                let (a, b) = d.place(a as f64, b as f64);
                (a as f32, b as f32)
            })
            .unzip();
        (d, pv, tv)
    })
    .collect();
    let inputs = |d: Domain| {
        let (_, pv, tv) = placed.iter().find(|x| x.0 == d).unwrap();
        (&pv[..], &tv[..])
    };
    let (mut gp, mut gv) = (vec![0.0f64; 8], vec![0.0f64; 8]);
    let count = allocations_during(|| {
        macro_rules! run_all {
            ($(($name:ident, $loss:expr, $oracle:expr, $domain:expr, $from:expr)),* $(,)?) => {
                $( let (pv, tv) = inputs($domain); every_verb($loss, pv, tv, &w, &mut g); )*
            };
        }
        losskit::for_each_pointwise_loss!(run_all);
        GaussianNll::default()
            .value_and_grad(
                &[1.0f64; 8],
                &[0.0; 8],
                &[2.0; 8],
                Reduction::Mean,
                &mut gp[..],
                Some(Out::write(&mut gv)),
            )
            .unwrap();
    });
    // `bad = p.to_vec()` inside `every_verb` is the test's own allocation: one per loss and
    // backend; everything else must be zero.
    let losses = {
        let mut k = 0;
        macro_rules! count {
            ($(($name:ident, $loss:expr, $oracle:expr, $domain:expr, $from:expr)),* $(,)?) => { $( let _ = stringify!($name); k += 1; )* };
        }
        losskit::for_each_pointwise_loss!(count);
        k
    };
    assert_eq!(
        count,
        losses * Backend::available().count(),
        "the kernels allocated"
    );
}

#[test]
fn row_loss_options_do_not_allocate() {
    assert!(allocations_during(|| drop(std::hint::black_box(vec![1u8; 64]))) >= 1);
    let (rows, c) = (5usize, 37usize);
    let x: Vec<f32> = (0..rows * c)
        .map(|i| ((i * 31) % 17) as f32 * 0.3 - 2.0)
        .collect();
    let t: Vec<f32> = (0..rows * c)
        .map(|i| ((i % c) == (i / c)) as u8 as f32)
        .collect();
    let y = [1u32, 4, 0, 36, 9];
    let ignored = [1i64, -100, 0, 36, 9];
    let w: Vec<f32> = (0..c).map(|j| 0.5 + j as f32 * 0.01).collect();
    let mut g = vec![0.0f32; rows * c];
    let mut h = vec![0.0f32; rows * c];
    let mut per_row = vec![0.0f32; rows];
    let mut lse = vec![0.0f32; rows];
    let mut pred = vec![0u32; rows];
    let mut bad = x.clone();
    bad[40] = f32::NAN;
    let count = allocations_during(|| {
        for backend in Backend::available() {
            let base = CrossEntropy {
                class_weights: Some(&w),
                label_smoothing: 0.1,
                z_loss: 1e-4,
                ..CrossEntropy::default()
            };
            let ce = base.on(backend).unwrap();
            ce.value(&x, c, &ignored, Reduction::Mean).unwrap();
            ce.value_elementwise(&x, c, &y, &mut per_row).unwrap();
            ce.value_and_grad_with(
                &x,
                c,
                &y,
                Reduction::Mean,
                Out::add(&mut g),
                RowOutputs {
                    lse: Some(&mut lse),
                    predicted: Some(&mut pred),
                },
            )
            .unwrap();
            ce.hessian_diag(&x, c, &y, Reduction::Sum, &mut h).unwrap();
            ce.hvp(&x, c, &y, Reduction::Sum, &x, &mut h).unwrap();
            h.copy_from_slice(&x);
            ce.value_and_grad_in_place(&mut h, c, &y, Reduction::Sum)
                .unwrap();
            let _ = ce.value_and_grad(&bad, c, &y, Reduction::Sum, &mut g[..]);
            let capped = CrossEntropy::<f32> {
                softcap: Some(5.0),
                ..CrossEntropy::default()
            };
            capped
                .on(backend)
                .unwrap()
                .value_and_grad(&x, c, &y, Reduction::Mean, &mut g[..])
                .unwrap();
            SoftCrossEntropy {
                label_smoothing: 0.1,
                ..SoftCrossEntropy::default()
            }
            .on(backend)
            .unwrap()
            .value_and_grad(&x, c, &t[..], Reduction::Mean, &mut g[..])
            .unwrap();
            let poly = Poly1 {
                class_weights: Some(&w),
                label_smoothing: 0.1,
                ..Poly1::default()
            }
            .on(backend)
            .unwrap();
            poly.value_and_grad(&x, c, &ignored, Reduction::Mean, Out::add(&mut g))
                .unwrap();
            poly.value_elementwise(&x, c, &y, &mut per_row).unwrap();
            h.copy_from_slice(&x);
            poly.value_and_grad_in_place(&mut h, c, &y, Reduction::Sum)
                .unwrap();
            Distillation {
                temperature: 2.0,
                ..Distillation::default()
            }
            .on(backend)
            .unwrap()
            .value_and_grad(
                &x,
                c,
                Teacher {
                    logits: &t,
                    labels: &y,
                },
                Reduction::Mean,
                &mut g[..],
            )
            .unwrap();
            MultiMargin::<f32> {
                p: 2,
                ..MultiMargin::default()
            }
            .on(backend)
            .unwrap()
            .value_and_grad(&x, c, &y, Reduction::Mean, &mut g[..])
            .unwrap();
            MultiLabelBceWithLogits {
                pos_weight: Some(&w),
                class_weights: Some(&w),
            }
            .on(backend)
            .unwrap()
            .value_and_grad(&x, c, &t[..], Reduction::Mean, &mut g[..])
            .unwrap();
            let ops = RowOps.on(backend).unwrap();
            ops.softmax(&x, c, &mut h).unwrap();
            ops.log_softmax(&x, c, &mut h).unwrap();
            ops.logsumexp(&x, c, &mut lse).unwrap();
        }
        Nll::<f32>::default()
            .value_and_grad(&x, c, &ignored, Reduction::Mean, &mut g[..])
            .unwrap();
        KlDiv::default()
            .value_and_grad(&t, &t, None, Reduction::Sum, &mut g[..])
            .unwrap();
    });
    assert_eq!(count, 0, "the row kernels allocated");
}

#[test]
fn barron_alpha_verbs_do_not_allocate() {
    assert!(allocations_during(|| drop(std::hint::black_box(vec![1u8; 64]))) >= 1);
    let n = 1000;
    let p: Vec<f32> = (0..n).map(|i| (i % 97) as f32 * 0.1).collect();
    let t: Vec<f32> = (0..n).map(|i| (i % 89) as f32 * 0.1).collect();
    let w = vec![0.5f32; n];
    let mut g = vec![0.0f32; n];
    let mut bad = p.clone();
    bad[5] = f32::NAN;
    let count = allocations_during(|| {
        for backend in Backend::available() {
            // One shape per formula of ∂ρ/∂α (and the members with their own).
            for alpha in [f32::NEG_INFINITY as f64, -4.0, 0.0, 0.5, 1.0, 1.5, 2.0, 4.0] {
                let l = Barron { alpha, scale: 0.7 }.on(backend).unwrap();
                l.grad_alpha(&p, &t, Some(&w), Reduction::Mean).unwrap();
                l.grad_alpha_elementwise(&p, &t, None, Reduction::Sum, Out::add(&mut g))
                    .unwrap();
                l.value_and_grads(&p, &t, Some(&w), Reduction::Mean, &mut g[..])
                    .unwrap();
                let _ = l.grad_alpha_elementwise(&bad, &t, Some(&w), Reduction::Sum, &mut g[..]);
            }
        }
    });
    assert_eq!(count, 0, "Barron's α verbs allocated");
}

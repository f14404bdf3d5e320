//! Every verb of every pointwise loss runs without touching the heap: a counting global
//! allocator sees zero allocations during the calls (and sees the positive control).

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

fn allocations_during(f: impl FnOnce()) -> usize {
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
        Domain::Probability,
        Domain::Logit,
        Domain::Sign,
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
            ($(($name:ident, $loss:expr, $oracle:expr, $domain:expr)),* $(,)?) => {
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
            ($(($name:ident, $loss:expr, $oracle:expr, $domain:expr)),* $(,)?) => { $( let _ = stringify!($name); k += 1; )* };
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

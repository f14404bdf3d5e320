use losskit::prelude::*;
use std::time::Instant;
fn main() {
    let (rows, c) = (32usize, 32000usize);
    let x: Vec<f32> = (0..rows * c)
        .map(|i| ((i * 7919 % 1000) as f32 / 250.0) - 2.0)
        .collect();
    let y: Vec<u32> = (0..rows as u32).collect();
    let mut g = vec![0.0f32; x.len()];
    let mut l = vec![0.0f32; rows];
    for b in Backend::available() {
        let ce = CrossEntropy::<f32> {
            backend: Some(b),
            ..Default::default()
        };
        let ops = RowOps { backend: Some(b) };
        let t = |f: &mut dyn FnMut()| {
            for _ in 0..3 {
                f()
            }
            let s = Instant::now();
            for _ in 0..20 {
                f()
            }
            s.elapsed().as_secs_f64() / 20.0 * 1e3
        };
        let a = t(&mut || {
            ops.logsumexp(&x, c, &mut l).unwrap();
        });
        let s = t(&mut || {
            ops.softmax(&x, c, &mut g).unwrap();
        });
        let v = t(&mut || {
            ce.value(&x, c, &y, Reduction::Mean).unwrap();
        });
        let vg = t(&mut || {
            ce.value_and_grad(&x, c, &y, Reduction::Mean, &mut g[..])
                .unwrap();
        });
        println!("{b}: lse {a:.3} ms, softmax {s:.3} ms, ce value {v:.3} ms, ce vg {vg:.3} ms");
    }
}

use detest::detest;

#[detest]
fn t(n: u32) {
    let _ = n;
}

fn main() {}
